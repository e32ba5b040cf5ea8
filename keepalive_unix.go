//go:build unix

package shm

import "golang.org/x/sys/unix"

// touchFD sets fd's access and modification times to now.
func touchFD(fd int) error {
	return ignoringEINTR(func() error { return unix.Futimes(fd, nil) })
}
