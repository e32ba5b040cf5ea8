//go:build freebsd || darwin

package shm

import (
	"io/fs"

	"github.com/shmkit/shm/internal/kern"
	"github.com/shmkit/shm/internal/lock"
	"golang.org/x/sys/unix"
)

// statNamed opens a kernel object read-only and fstats it: kernel objects
// have no file to lstat.
func statNamed(name string) (ObjectInfo, error) {
	if err := validName(name); err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: unwrapPath(err)}
	}
	fd, err := kern.ShmOpen(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	defer lock.CloseFD(fd)
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return infoFromStat(name, name, &st), nil
}

// unwrapPath returns the cause inside a *fs.PathError, or err itself.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
