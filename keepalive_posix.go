//go:build linux || freebsd || openbsd || netbsd || dragonfly || darwin || solaris

package shm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// touchFD sets fd's access and modification times to now.
func touchFD(fd int) error {
	return ignoringEINTR(func() error { return unix.Futimes(fd, nil) })
}

// flockShared takes a shared BSD lock on the object for as long as the
// returned function is not called. Where the object does not support
// flock (darwin and FreeBSD kernel objects, which no cleaner touches), it
// does nothing. A conflicting exclusive lock is waited out in the
// background of the keep-alive loop: the shared lock is retried later.
func (o *Object) flockShared() (func(), error) {
	err := o.control("flock", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) })
	})
	switch {
	case err == nil:
		return func() {
			_ = o.control("flock", func(fd int) error { return unix.Flock(fd, unix.LOCK_UN) })
		}, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EWOULDBLOCK):
		return func() {}, nil
	}
	return nil, fmt.Errorf("shm: KeepAlive: %w", o.wrap("flock", err))
}
