//go:build unix

package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// flockLocker holds flock(2) locks on one file per token in a directory
// shared by all processes. flock locks belong to the open file
// description, which this locker opens itself (close-on-exec).
type flockLocker struct {
	dir string
	mu  sync.Mutex
	fds map[uint32]int
}

// flockHeld records the token files this process holds, by path. Where
// flock is emulated with classic record locks, closing any descriptor of
// a token file this process holds would drop its lock: so a probe or a
// draw never opens (and closes) a file of the process's own tokens; the
// registry answers instead, and only the holding owner closes its
// descriptor.
var flockHeld = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

func newFlockLocker(*os.File) (locker, error) {
	dir := flockTokenDir()
	if err := os.Mkdir(dir, 0o777); err == nil {
		// Shared by all users, like /tmp: sticky, world-writable.
		if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, &os.PathError{Op: "stat", Path: dir, Err: unix.ENOTDIR}
	}
	return &flockLocker{dir: dir, fds: map[uint32]int{}}, nil
}

func (lk *flockLocker) mechanism() string { return "flock" }

func (lk *flockLocker) path(t uint32) string { return filepath.Join(lk.dir, fmt.Sprintf("%08x", t)) }

func (lk *flockLocker) tryLock(t uint32) (bool, error) {
	p := lk.path(t)
	flockHeld.Lock()
	defer flockHeld.Unlock()
	if flockHeld.m[p] {
		return false, nil
	}
	// Read-only is enough for flock, so a file left by another user works.
	fd, regular, err := openTokenFile(p, unix.O_CREAT)
	if err != nil {
		return false, err
	}
	if !regular {
		return false, nil // not a token file: draw another token
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return false, nil
		}
		return false, &os.PathError{Op: "flock", Path: p, Err: err}
	}
	lk.mu.Lock()
	lk.fds[t] = fd
	lk.mu.Unlock()
	flockHeld.m[p] = true
	return true, nil
}

func (lk *flockLocker) held(t uint32) (bool, error) {
	p := lk.path(t)
	flockHeld.Lock()
	defer flockHeld.Unlock()
	if flockHeld.m[p] {
		return true, nil
	}
	fd, regular, err := openTokenFile(p, 0)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil || !regular {
		// What is not a regular file no owner could lock (tryLock draws
		// another token): the token is free.
		return false, err
	}
	defer unix.Close(fd)
	// A shared lock: an owner holds its token's lock exclusively, and
	// probes share. An exclusive probe made a probe of the same dead
	// token in another process, at the same instant, find it held: an
	// OpenSendExclusive that scanned a dead sender's slot while the
	// receiver probed it failed with ErrRingBusy (seen in .ci/run). An
	// owner that draws a token while a probe holds its file finds it
	// taken and draws another.
	err = unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, &os.PathError{Op: "flock", Path: p, Err: err}
	}
	return false, nil // closing fd drops the probe's lock
}

// openTokenFile opens the token file p read-only with the extra flags
// (O_CREAT, mode 0444), and reports whether it is a regular file; a
// descriptor of anything else it closes, returning -1. Anyone may create
// names in the shared directory: the open neither follows a symbolic link
// (the systems fail that open with ELOOP, EMLINK or EFTYPE, and O_CREAT
// of a directory with EISDIR: a name that is no regular file is told
// apart from a failed open by lstat) nor waits (open(2) of a FIFO would block until a
// writer came, and so would every probe of that token, the process's
// flockHeld with it).
func openTokenFile(p string, flags int) (fd int, regular bool, err error) {
	fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK|flags, 0o444)
	if err != nil {
		if fi, lerr := os.Lstat(p); lerr == nil && !fi.Mode().IsRegular() {
			return -1, false, nil
		}
		return -1, false, &os.PathError{Op: "open", Path: p, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, &os.PathError{Op: "fstat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, false, nil
	}
	return fd, true, nil
}

func (lk *flockLocker) unlock(t uint32) error {
	lk.mu.Lock()
	fd, ok := lk.fds[t]
	delete(lk.fds, t)
	lk.mu.Unlock()
	if !ok {
		return nil
	}
	flockHeld.Lock()
	delete(flockHeld.m, lk.path(t))
	flockHeld.Unlock()
	// The file stays: removing it could race with a new owner of t.
	return os.NewSyscallError("close", unix.Close(fd))
}

func (lk *flockLocker) close() error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	var err error
	for t, fd := range lk.fds {
		flockHeld.Lock()
		delete(flockHeld.m, lk.path(t))
		flockHeld.Unlock()
		if cerr := unix.Close(fd); err == nil && cerr != nil {
			err = os.NewSyscallError("close", cerr)
		}
		delete(lk.fds, t)
	}
	return err
}
