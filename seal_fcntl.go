//go:build linux || freebsd

package shm

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// Seal adds seals to the object (Linux memfd, FreeBSD shm). Objects made
// by CreateAnon's memfd and shm_open2 strategies allow sealing; files in
// /dev/shm do not (EPERM on Linux), and FreeBSD has no SealFutureWrite.
func (o *Object) Seal(s Seal) error {
	bits := 0
	for _, b := range sealBits {
		if s&b.seal != 0 {
			bits |= b.bit
			s &^= b.seal
		}
	}
	if s&SealFutureWrite != 0 {
		return &fs.PathError{Op: "seal", Path: o.describe(), Err: errUnsupported("SealFutureWrite")}
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
