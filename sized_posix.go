//go:build linux || freebsd || darwin

package shm

import (
	"os"

	"golang.org/x/sys/unix"
)

// sizedFD wraps fd in an *os.File of the given size, closing fd on failure.
func sizedFD(fd int, name string, size int64) (*os.File, error) {
	if size > 0 {
		if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
			unix.Close(fd)
			return nil, os.NewSyscallError("ftruncate", err)
		}
	}
	return os.NewFile(uintptr(fd), name), nil
}
