//go:build linux || openbsd || netbsd || dragonfly || solaris

package shm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// flockShared tries once, without waiting, to take a shared BSD lock on
// the object, and returns what releases it; nil when it took none. The
// lock is taken on a descriptor of this call's own: the object's path
// opened afresh (and checked to lead to the object: device and inode).
// flock locks belong to an open file description, and the object's own is
// shared with its Mappings' duplicates, the files of File and every
// process given the object: a lock taken there would be released by
// whichever of them unlocked first (another KeepAlive ending), and kept by
// them after this KeepAlive returned. Where the name no longer leads to
// the object, another process holds a conflicting exclusive lock, or the
// path cannot be opened (no read permission now), it takes none and
// returns no error: the keep-alive loop tries again at its next refresh.
func (o *Object) flockShared() (unlock func(), err error) {
	have, err := o.fstat()
	if err != nil {
		return nil, fmt.Errorf("shm: KeepAlive: %w", err)
	}
	var fd int
	err = ignoringEINTR(func() (e error) {
		fd, e = unix.Open(o.named.path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
		return e
	})
	if err != nil {
		return nil, nil
	}
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Dev != have.Dev || now.Ino != have.Ino {
		unix.Close(fd)
		return nil, nil
	}
	err = ignoringEINTR(func() error { return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) })
	switch {
	case err == nil:
		return func() { unix.Close(fd) }, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EWOULDBLOCK):
		unix.Close(fd)
		return nil, nil
	}
	unix.Close(fd)
	return nil, fmt.Errorf("shm: KeepAlive: %w", o.wrap("flock", err))
}
