//go:build unix

package lock

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// localTokens records the tokens this process holds with classic fcntl
// locks, per file. Classic locks belong to the process, so F_GETLK cannot
// see this process's own locks, and F_SETLK on a range the process already
// holds succeeds: the registry stands in for both.
var localTokens = struct {
	sync.Mutex
	m map[fileKey]map[uint32]bool
}{m: map[fileKey]map[uint32]bool{}}

// fcntlLocker takes classic POSIX byte-range locks on the object's own
// descriptor (the caller's f, which it does not close).
type fcntlLocker struct {
	f   *os.File
	key fileKey
}

func newFcntlLocker(f *os.File) (locker, error) {
	var st unix.Stat_t
	if err := control(f, func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
		return nil, os.NewSyscallError("fstat", err)
	}
	lk := &fcntlLocker{f: f, key: fileKey{uint64(st.Dev), uint64(st.Ino)}}
	if _, err := lk.getlk(1); err != nil {
		return nil, err
	}
	return lk, nil
}

func (lk *fcntlLocker) mechanism() string { return "fcntl" }

func (lk *fcntlLocker) tryLock(t uint32) (bool, error) {
	localTokens.Lock()
	defer localTokens.Unlock()
	if localTokens.m[lk.key][t] {
		return false, nil
	}
	fl := tokenRange(t, unix.F_WRLCK)
	err := control(lk.f, func(fd int) error { return unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &fl) })
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return false, nil
	}
	if err != nil {
		return false, os.NewSyscallError("fcntl(F_SETLK)", err)
	}
	if localTokens.m[lk.key] == nil {
		localTokens.m[lk.key] = map[uint32]bool{}
	}
	localTokens.m[lk.key][t] = true
	return true, nil
}

func (lk *fcntlLocker) held(t uint32) (bool, error) {
	localTokens.Lock()
	mine := localTokens.m[lk.key][t]
	localTokens.Unlock()
	if mine {
		return true, nil
	}
	return lk.getlk(t)
}

func (lk *fcntlLocker) getlk(t uint32) (bool, error) {
	fl := tokenRange(t, unix.F_WRLCK)
	if err := control(lk.f, func(fd int) error { return unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &fl) }); err != nil {
		return false, os.NewSyscallError("fcntl(F_GETLK)", err)
	}
	return fl.Type != unix.F_UNLCK, nil
}

func (lk *fcntlLocker) unlock(t uint32) error {
	localTokens.Lock()
	defer localTokens.Unlock()
	delete(localTokens.m[lk.key], t)
	if len(localTokens.m[lk.key]) == 0 {
		delete(localTokens.m, lk.key)
	}
	fl := tokenRange(t, unix.F_UNLCK)
	err := control(lk.f, func(fd int) error { return unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &fl) })
	return os.NewSyscallError("fcntl(F_SETLK)", err)
}

func (lk *fcntlLocker) close() error { return nil }

// tokenRange is the one-byte lock range of token t.
func tokenRange(t uint32, typ int16) unix.Flock_t {
	return unix.Flock_t{Type: typ, Whence: 0 /* SEEK_SET */, Start: ownerLockBase + int64(t), Len: 1}
}

// control runs fn on f's descriptor, keeping it open meanwhile.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
