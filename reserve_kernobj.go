//go:build freebsd || darwin

package shm

import "fmt"

// On FreeBSD and darwin objects are kernel memory objects backed by
// anonymous (swap-backed) memory, not files on a size-limited
// filesystem: ftruncate sets the size (FreeBSD charges it to the swap
// reservation there, which fails with ENOMEM where overcommit is limited)
// and a first touch never raises SIGBUS for want of space. There is no
// fallocate for them (FreeBSD's posix_fallocate on a shm object only sets
// its size), so grow is ftruncate.

// grow sets fd's size to to bytes, unless another process has grown it to
// that or more since its size was read (see extendTo).
func grow(fd int, to int64) error {
	if err := extendTo(fd, to); err != nil {
		return fmt.Errorf("cannot reserve memory for %d bytes: %w", to, err)
	}
	return nil
}
