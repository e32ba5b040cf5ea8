//go:build unix

package lock

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Classic POSIX record locks belong to the process, and the kernel drops
// ALL of a process's locks on a file when the process closes ANY
// descriptor of that file. So the classic token locks of a process are
// kept in one registry entry per file (lockFiles), which holds:
//
//   - the only descriptor the token locks are taken on (a duplicate of the
//     first owner's), closed by the last owner of the file, after every
//     token is unlocked;
//   - the tokens this process holds there (F_GETLK cannot see the
//     process's own locks, and F_SETLK on a range it already holds
//     succeeds, so the registry stands in for both);
//   - the other descriptors of the file that package shm was asked to
//     close meanwhile (see [CloseFD] and [CloseFile]): closing them would
//     drop the locks, so they stay open until the last owner goes.
var lockFiles = struct {
	sync.RWMutex // read-held by the fast path of CloseFD/CloseFile
	m            map[fileKey]*lockFile
	n            atomic.Int32 // len(m)
}{m: map[fileKey]*lockFile{}}

// maxKept bounds the descriptors a file's entry keeps open. Beyond it,
// CloseFD closes the descriptor and at once takes the process's token
// locks on the file again (see reassert): a peer probing in that instant
// can see a holder dead. Only a process that opens and closes the same
// object more than maxKept times while it holds a mutex in it gets there.
const maxKept = 64

// A lockFile is the registry entry of one file; guarded by lockFiles.
type lockFile struct {
	key      fileKey
	fd       int
	writable bool
	users    int // fcntlLockers open on the file
	tokens   map[uint32]bool
	kept     []func() error // closes of descriptors put off until users == 0
}

// fcntlLocker takes classic POSIX byte-range locks through its file's
// registry entry.
type fcntlLocker struct {
	lf     *lockFile
	closed bool // guarded by lockFiles
}

func newFcntlLocker(f *os.File) (locker, error) {
	var st unix.Stat_t
	var flags int
	err := control(f, func(fd int) error {
		if err := unix.Fstat(fd, &st); err != nil {
			return os.NewSyscallError("fstat", err)
		}
		var err error
		flags, err = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		return os.NewSyscallError("fcntl(F_GETFL)", err)
	})
	if err != nil {
		return nil, err
	}
	writable := flags&unix.O_ACCMODE != unix.O_RDONLY
	key := fileKey{uint64(st.Dev), uint64(st.Ino)}
	lockFiles.Lock()
	defer lockFiles.Unlock()
	lf := lockFiles.m[key]
	if lf == nil || (writable && !lf.writable) {
		var nfd int
		err := control(f, func(fd int) error {
			var err error
			nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
			return os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
		})
		if err != nil {
			return nil, err
		}
		if lf == nil {
			lf = &lockFile{key: key, tokens: map[uint32]bool{}}
			lockFiles.m[key] = lf
			lockFiles.n.Add(1)
		} else {
			// Write locks need a writable descriptor. The read-only one
			// may not be closed while the file has locks: keep it.
			old := lf.fd
			lf.kept = append(lf.kept, func() error { return unix.Close(old) })
		}
		lf.fd, lf.writable = nfd, writable
	}
	lf.users++
	lk := &fcntlLocker{lf: lf}
	if _, err := lk.getlk(1); err != nil {
		lk.closeLocked()
		return nil, err
	}
	return lk, nil
}

func (lk *fcntlLocker) mechanism() string { return "fcntl" }

func (lk *fcntlLocker) tryLock(t uint32) (bool, error) {
	lockFiles.Lock()
	defer lockFiles.Unlock()
	if lk.lf.tokens[t] {
		return false, nil
	}
	fl := tokenRange(t, unix.F_WRLCK)
	err := unix.FcntlFlock(uintptr(lk.lf.fd), unix.F_SETLK, &fl)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return false, nil
	}
	if err != nil {
		return false, os.NewSyscallError("fcntl(F_SETLK)", err)
	}
	lk.lf.tokens[t] = true
	return true, nil
}

func (lk *fcntlLocker) held(t uint32) (bool, error) {
	lockFiles.RLock()
	defer lockFiles.RUnlock()
	if lk.lf.tokens[t] {
		return true, nil
	}
	return lk.getlk(t)
}

// getlk asks the kernel whether another process holds t's lock. The
// caller holds lockFiles (the entry's descriptor stays open meanwhile).
func (lk *fcntlLocker) getlk(t uint32) (bool, error) {
	fl := tokenRange(t, unix.F_WRLCK)
	if err := unix.FcntlFlock(uintptr(lk.lf.fd), unix.F_GETLK, &fl); err != nil {
		return false, os.NewSyscallError("fcntl(F_GETLK)", err)
	}
	return fl.Type != unix.F_UNLCK, nil
}

func (lk *fcntlLocker) unlock(t uint32) error {
	lockFiles.Lock()
	defer lockFiles.Unlock()
	if !lk.lf.tokens[t] {
		return nil
	}
	delete(lk.lf.tokens, t)
	fl := tokenRange(t, unix.F_UNLCK)
	return os.NewSyscallError("fcntl(F_SETLK)", unix.FcntlFlock(uintptr(lk.lf.fd), unix.F_SETLK, &fl))
}

// close lets go of the file's entry; the last locker closes its
// descriptors. The owner has unlocked its token before.
func (lk *fcntlLocker) close() error {
	lockFiles.Lock()
	defer lockFiles.Unlock()
	return lk.closeLocked()
}

func (lk *fcntlLocker) closeLocked() error {
	if lk.closed {
		return nil
	}
	lk.closed = true
	lf := lk.lf
	if lf.users--; lf.users > 0 {
		return nil
	}
	delete(lockFiles.m, lf.key)
	lockFiles.n.Add(-1)
	var err error
	for _, c := range lf.kept {
		if cerr := c(); err == nil && cerr != nil {
			err = os.NewSyscallError("close", cerr)
		}
	}
	lf.kept = nil
	if cerr := unix.Close(lf.fd); err == nil && cerr != nil {
		err = os.NewSyscallError("close", cerr)
	}
	return err
}

// reassert takes the entry's token locks again after a descriptor of the
// file was closed. The caller holds lockFiles.
func (lf *lockFile) reassert() {
	for t := range lf.tokens {
		fl := tokenRange(t, unix.F_WRLCK)
		_ = unix.FcntlFlock(uintptr(lf.fd), unix.F_SETLK, &fl)
	}
}

// CloseFD closes fd, a descriptor of a shared object, the way package shm
// must close every descriptor of an object: if this process holds classic
// fcntl token locks on the same file, closing any descriptor of it would
// drop them all, so fd is kept open instead until the last owner of the
// file closes (at most maxKept per file; see maxKept). Where no classic
// locks are held (always, with Linux OFD locks) it is a plain close.
func CloseFD(fd int) error {
	return closeOrKeep(func() (fileKey, bool) {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			return fileKey{}, false
		}
		return fileKey{uint64(st.Dev), uint64(st.Ino)}, true
	}, func() error { return os.NewSyscallError("close", unix.Close(fd)) })
}

// CloseFile closes f as [CloseFD] closes a descriptor. A kept f stays
// reachable, so its finalizer does not close it either.
func CloseFile(f *os.File) error {
	return closeOrKeep(func() (fileKey, bool) { return fileOf(f) }, f.Close)
}

// KeepIfLocked hands f, a descriptor of an object that its owner no longer
// uses (it became garbage), to the registry if this process holds classic
// locks on its file, so that f's finalizer cannot close it and drop them;
// the registry closes it with the file's last owner. It reports whether it
// kept f; if not, f is left as it was.
func KeepIfLocked(f *os.File) bool {
	if lockFiles.n.Load() == 0 {
		return false
	}
	key, ok := fileOf(f)
	if !ok {
		return false
	}
	lockFiles.Lock()
	defer lockFiles.Unlock()
	lf := lockFiles.m[key]
	if lf == nil {
		return false
	}
	lf.kept = append(lf.kept, f.Close)
	return true
}

func fileOf(f *os.File) (fileKey, bool) {
	var st unix.Stat_t
	if control(f, func(fd int) error { return unix.Fstat(fd, &st) }) != nil {
		return fileKey{}, false
	}
	return fileKey{uint64(st.Dev), uint64(st.Ino)}, true
}

func closeOrKeep(key func() (fileKey, bool), closeIt func() error) error {
	lockFiles.RLock()
	if lockFiles.n.Load() == 0 {
		// Under the read lock: no owner can take a classic lock between
		// the check and the close.
		defer lockFiles.RUnlock()
		return closeIt()
	}
	lockFiles.RUnlock()
	lockFiles.Lock()
	defer lockFiles.Unlock()
	k, ok := key()
	lf := lockFiles.m[k]
	if !ok || lf == nil {
		return closeIt()
	}
	if len(lf.kept) < maxKept {
		lf.kept = append(lf.kept, closeIt)
		return nil
	}
	err := closeIt()
	lf.reassert()
	return err
}

// KeptDescriptors returns how many descriptors the registry keeps open
// for closes put off (for tests).
func KeptDescriptors() int {
	lockFiles.RLock()
	defer lockFiles.RUnlock()
	n := 0
	for _, lf := range lockFiles.m {
		n += len(lf.kept)
	}
	return n
}

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
