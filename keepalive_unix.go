//go:build unix

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

// flockShared tries once, without waiting, to take a shared BSD lock on
// the object, which [Object.funlock] releases; it reports whether the
// lock is held. Where the object does not support flock (darwin and
// FreeBSD kernel objects, which no cleaner touches) or another process
// holds a conflicting exclusive lock, it reports false and no error: the
// keep-alive loop tries again at its next refresh.
func (o *Object) flockShared() (bool, error) {
	err := o.control("flock", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) })
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EWOULDBLOCK):
		return false, nil
	}
	return false, fmt.Errorf("shm: KeepAlive: %w", o.wrap("flock", err))
}

// funlock releases the lock flockShared took.
func (o *Object) funlock() {
	_ = o.control("flock", func(fd int) error { return unix.Flock(fd, unix.LOCK_UN) })
}
