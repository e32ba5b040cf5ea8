package shm

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates the object's memory now (posix_fallocate), so that a
// full tmpfs fails at Create with ENOSPC instead of killing a process with
// SIGBUS on first touch. Filesystems without fallocate are left alone.
func reserve(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		ferr = ignoringEINTR(func() error { return unix.Fallocate(int(fd), 0, 0, size) })
	}); err != nil {
		return err
	}
	if errors.Is(ferr, unix.EOPNOTSUPP) || errors.Is(ferr, unix.ENOSYS) {
		return nil
	}
	return os.NewSyscallError("fallocate", ferr)
}
