//go:build unix

package shm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// zeroChunk is what growByWriting writes at a time.
var zeroChunk [64 << 10]byte

// growByWriting grows fd's object from from to to bytes by writing zeros
// past its end, so that every new page is allocated now (the bytes past
// the old end are not visible to any mapping yet). If a write fails, the
// object is cut back to from bytes and the error returned.
func growByWriting(fd int, from, to int64) error {
	if err := writeZeros(fd, from, to); err != nil {
		_ = ignoringEINTR(func() error { return unix.Ftruncate(fd, from) })
		return reserveErr(to, err)
	}
	return nil
}

// writeZeros writes zeros over [from, to) of fd.
func writeZeros(fd int, from, to int64) error {
	for off := from; off < to; {
		n := min(to-off, int64(len(zeroChunk)))
		var k int
		err := ignoringEINTR(func() error {
			var e error
			k, e = unix.Pwrite(fd, zeroChunk[:n], off)
			return e
		})
		if err != nil {
			return os.NewSyscallError("pwrite", err)
		}
		if k == 0 {
			return os.NewSyscallError("pwrite", unix.ENOSPC)
		}
		off += int64(k)
	}
	return nil
}

// setSize sets the size of fd's object to size, reserving the memory of a
// grown object before its size changes (see grow); a failed grow leaves
// the size as it was.
func setSize(fd int, size int64) error {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	if size > st.Size {
		return grow(fd, st.Size, size)
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	return nil
}

// reserveErr explains a failed reservation of size bytes.
func reserveErr(size int64, err error) error {
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.ENOMEM) {
		return fmt.Errorf("cannot reserve memory for %d bytes: the filesystem that holds shared memory (/dev/shm, /tmp, or the kernel's own) is full or at its memory limit: %w", size, err)
	}
	return fmt.Errorf("cannot reserve memory for %d bytes: %w", size, err)
}
