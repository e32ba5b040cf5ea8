package lock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

var namedLockers = []namedLocker{{"ofd", newOFDLocker, newOFDProbe}, {"fcntl", newFcntlLocker, nil}, {"flock", newFlockLocker, nil}}

// ofdLocker takes Linux open-file-description locks on its own re-open of
// the object, so the locks belong to this owner only: not to the process
// (closing other descriptors does not drop them) and not to the open file
// description that f may share with other processes (through fork,
// ExtraFiles or SCM_RIGHTS).
type ofdLocker struct {
	fd  int
	key fileKey
}

func newOFDLocker(f *os.File) (locker, error) {
	var fd int
	var key fileKey
	err := control(f, func(old int) error {
		var err error
		fd, key, err = reopen(old)
		return err
	})
	if err != nil {
		return nil, err
	}
	lk := &ofdLocker{fd: fd, key: key}
	if _, err := lk.held(1); err != nil { // kernels before 3.15: EINVAL
		unix.Close(fd)
		return nil, err
	}
	return lk, nil
}

// newOFDProbe probes through a duplicate of f, which may be read-only
// (F_OFD_GETLK asks no access): its open file description holds no token
// lock, so every holder's lock conflicts with the probe's.
func newOFDProbe(f *os.File) (locker, error) {
	var fd int
	err := control(f, func(old int) error {
		var err error
		fd, err = unix.FcntlInt(uintptr(old), unix.F_DUPFD_CLOEXEC, 0)
		return os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
	})
	if err != nil {
		return nil, err
	}
	lk := &ofdLocker{fd: fd}
	if _, err := lk.held(1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return lk, nil
}

// reopen opens the file that descriptor old refers to again, through
// /proc/self/fd, so that the new descriptor has an open file description
// of its own.
func reopen(old int) (int, fileKey, error) {
	var st, nst unix.Stat_t
	if err := unix.Fstat(old, &st); err != nil {
		return -1, fileKey{}, os.NewSyscallError("fstat", err)
	}
	path := fmt.Sprintf("/proc/self/fd/%d", old)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fileKey{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.Fstat(fd, &nst); err != nil || nst.Dev != st.Dev || nst.Ino != st.Ino {
		unix.Close(fd)
		return -1, fileKey{}, fmt.Errorf("shm: %s is not the object's file: %w", path, unix.EBADF)
	}
	return fd, fileKey{uint64(st.Dev), uint64(st.Ino)}, nil
}

func (lk *ofdLocker) mechanism() string { return "ofd" }

func (lk *ofdLocker) tryLock(t uint32) (bool, error) {
	fl := tokenRange(t, unix.F_WRLCK)
	err := unix.FcntlFlock(uintptr(lk.fd), unix.F_OFD_SETLK, &fl)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return false, nil
	}
	return err == nil, os.NewSyscallError("fcntl(F_OFD_SETLK)", err)
}

func (lk *ofdLocker) held(t uint32) (bool, error) {
	fl := tokenRange(t, unix.F_WRLCK)
	if err := unix.FcntlFlock(uintptr(lk.fd), unix.F_OFD_GETLK, &fl); err != nil {
		return false, os.NewSyscallError("fcntl(F_OFD_GETLK)", err)
	}
	return fl.Type != unix.F_UNLCK, nil
}

func (lk *ofdLocker) unlock(t uint32) error {
	fl := tokenRange(t, unix.F_UNLCK)
	return os.NewSyscallError("fcntl(F_OFD_SETLK)", unix.FcntlFlock(uintptr(lk.fd), unix.F_OFD_SETLK, &fl))
}

func (lk *ofdLocker) close() error { return os.NewSyscallError("close", unix.Close(lk.fd)) }

var _ waitLocker = (*ofdLocker)(nil)

func (lk *ofdLocker) file() fileKey { return lk.key }

// waitFD re-opens the file for a watch: the new open file description
// holds no token, so its wait conflicts with every holder's token lock,
// this process's other owners' included, and closing it releases whatever
// it was granted. The owner's descriptor is open while this runs.
func (lk *ofdLocker) waitFD() (int, error) {
	fd, _, err := reopen(lk.fd)
	return fd, err
}

// waitFree sleeps in F_OFD_SETLKW until token t's lock is free, which the
// kernel makes it when its holder dies, then releases it again at once.
// It ties up one thread while it sleeps.
func (lk *ofdLocker) waitFree(fd int, t uint32) error {
	fl := tokenRange(t, unix.F_WRLCK)
	for {
		err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLKW, &fl)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("fcntl(F_OFD_SETLKW)", err)
		}
		break
	}
	fl = tokenRange(t, unix.F_UNLCK)
	return os.NewSyscallError("fcntl(F_OFD_SETLK)", unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &fl))
}
