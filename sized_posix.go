//go:build linux || freebsd || darwin

package shm

import (
	"os"

	"golang.org/x/sys/unix"
)

// sizedObject sets fd's size and returns an Object that owns fd. On
// failure fd is closed.
func sizedObject(fd int, name, strategy string, size int64) (*Object, error) {
	if size > 0 {
		if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
			unix.Close(fd)
			return nil, os.NewSyscallError("ftruncate", err)
		}
	}
	return newFDObject(fd, name, strategy), nil
}
