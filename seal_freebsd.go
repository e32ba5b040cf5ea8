package shm

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// FreeBSD's seal values (sys/fcntl.h); x/sys defines them for riscv64 only.
const fAddSeals = 19

var sealBits = []struct {
	seal Seal
	bit  int
}{
	{SealSeal, 0x1},
	{SealShrink, 0x2},
	{SealGrow, 0x4},
	{SealWrite, 0x8},
}

// Seal adds seals to the object (Linux memfd, FreeBSD shm). FreeBSD has no
// SealFutureWrite.
func (o *Object) Seal(s Seal) error {
	if s&SealFutureWrite != 0 {
		return &fs.PathError{Op: "seal", Path: o.describe(), Err: errUnsupported("SealFutureWrite")}
	}
	bits := 0
	for _, b := range sealBits {
		if s&b.seal != 0 {
			bits |= b.bit
			s &^= b.seal
		}
	}
	if s != 0 {
		return &fs.PathError{Op: "seal", Path: o.describe(), Err: fmt.Errorf("unknown seal bits %#x", uint32(s))}
	}
	err := o.control("seal", func(fd int) error {
		_, e := unix.FcntlInt(uintptr(fd), fAddSeals, bits)
		return e
	})
	if err != nil {
		return o.wrap("seal", err)
	}
	return nil
}

// Seals returns the seals the object carries.
func (o *Object) Seals() (Seal, error) {
	var bits int
	err := o.control("seal", func(fd int) error {
		var e error
		bits, e = unix.FcntlInt(uintptr(fd), fGetSeals, 0)
		return e
	})
	if err != nil {
		return 0, o.wrap("seal", err)
	}
	var s Seal
	for _, b := range sealBits {
		if bits&b.bit != 0 {
			s |= b.seal
		}
	}
	return s, nil
}
