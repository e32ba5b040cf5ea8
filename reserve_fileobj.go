//go:build openbsd || netbsd || dragonfly || solaris

package shm

import (
	"os"
)

// On these systems objects are files (in /tmp, /var/shm or a tmpfs) and
// the kernel offers no fallocate that applies to them, so the memory is
// reserved by writing zeros: a full filesystem then fails the write with
// ENOSPC, instead of a later first touch raising SIGBUS.

// reserve allocates a new, unpublished object's memory by writing zeros.
func reserve(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	if err := rc.Control(func(fd uintptr) { werr = writeZeros(int(fd), 0, size) }); err != nil {
		return err
	}
	if werr != nil {
		return reserveErr(size, werr)
	}
	return nil
}

// grow makes fd's object to bytes long by writing zeros past its end (see
// growByWriting, which says what a failure leaves).
func grow(fd int, to int64) error { return growByWriting(fd, to) }

// writeZeros writes zeros over [from, to) of fd, an object no other
// process can reach yet.
func writeZeros(fd int, from, to int64) error {
	for off := from; off < to; {
		k, err := pwriteZeros(fd, min(to-off, int64(len(zeroChunk))), off)
		if err != nil {
			return err
		}
		off += int64(k)
	}
	return nil
}
