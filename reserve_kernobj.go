//go:build freebsd || darwin

package shm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// On FreeBSD and darwin objects are kernel memory objects backed by
// anonymous (swap-backed) memory, not files on a size-limited
// filesystem: ftruncate sets the size (FreeBSD charges it to the swap
// reservation there, which fails with ENOMEM where overcommit is limited)
// and a first touch never raises SIGBUS for want of space. There is no
// fallocate for them (FreeBSD's posix_fallocate on a shm object only sets
// its size), so grow is ftruncate.

// grow sets fd's size to to bytes.
func grow(fd int, _, to int64) error {
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, to) }); err != nil {
		return fmt.Errorf("cannot reserve memory for %d bytes: %w", to, os.NewSyscallError("ftruncate", err))
	}
	return nil
}
