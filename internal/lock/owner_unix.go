//go:build unix

package lock

import (
	"errors"
	"fmt"
	"os"

	"github.com/shmkit/shm/internal/shmdebug"
	"golang.org/x/sys/unix"
)

// ownerLockBase is where token locks start in the object's byte-range lock
// space: far beyond any real data, so they never meet a lock on the
// contents. Token t is the single byte at ownerLockBase+t.
const ownerLockBase = 1 << 62

type namedLocker struct {
	name string
	new  func(*os.File) (locker, error)
	// probe makes a locker that only probes (held), on a descriptor
	// that may be read-only; nil: new does.
	probe func(*os.File) (locker, error)
}

// lockers are the mechanisms NewFileOwner tries, in order. SHMDEBUG's
// owner key (ofd on Linux, fcntl or flock) forces one, so that the
// fallbacks can be run, and tested, on Linux; a name this system does not
// have leaves NewFileOwner nothing to use, and it says so.
var lockers = pickLockers(false)

// probeLockers are the mechanisms NewProbe tries, in the same order.
var probeLockers = pickLockers(true)

func pickLockers(probe bool) []func(*os.File) (locker, error) {
	s, _ := shmdebug.Get()
	want := s.Owner
	var l []func(*os.File) (locker, error)
	for _, nl := range namedLockers {
		if want == "" || want == nl.name {
			if probe && nl.probe != nil {
				l = append(l, nl.probe)
			} else {
				l = append(l, nl.new)
			}
		}
	}
	return l
}

// NewFileOwner returns an owner for the shared object open as f, with a
// fresh random token whose lock it takes at once. f must be open while
// NewFileOwner runs; the owner keeps descriptors of its own. The token lock is, in order of preference:
//
//   - Linux: an open-file-description lock (F_OFD_SETLK) on a private
//     re-open of f through /proc/self/fd. It belongs to this owner alone:
//     it survives other descriptors of the object being closed and is not
//     shared with processes that inherited or received f.
//   - Elsewhere (or without /proc): a classic POSIX lock (F_SETLK) on the
//     file, through one descriptor per file shared by the process's
//     owners (a duplicate of the first one's f, closed by the last).
//     These locks belong to the process, and the kernel drops all of a
//     process's locks on the object when the process closes ANY
//     descriptor of it: the owner then looks dead to others while it may
//     still hold a mutex. Close descriptors of the object through
//     [CloseFD] or [CloseFile], which keep them open meanwhile.
//   - Where the object takes no byte-range locks (macOS shm_open objects,
//     some FreeBSD versions): flock on a file per token in the directory
//     /tmp/.shm-owners (made mode 1777; tests choose another).
//     The tokens are then unique on the machine, and every process that
//     shares a mutex must use the same directory. A tmp cleaner deleting
//     a live owner's file makes that owner look dead.
//
// The returned owner must be closed when the object is no longer used.
func NewFileOwner(f *os.File) (*FileOwner, error) {
	if f == nil {
		return nil, errors.New("shm: owner file is nil")
	}
	var errs []error
	for _, newLocker := range lockers {
		lk, err := newLocker(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o, err := newFileOwner(lk)
		if err == nil {
			return o, nil
		}
		lk.close()
		errs = append(errs, err)
		if !lockUnsupported(err) {
			break
		}
	}
	if len(lockers) == 0 {
		s, _ := shmdebug.Get()
		return nil, fmt.Errorf("shm: no liveness lock on %s: %s owner=%s names no mechanism of this system", f.Name(), shmdebug.Var, s.Owner)
	}
	return nil, fmt.Errorf("shm: no liveness lock on %s: %w", f.Name(), errors.Join(errs...))
}

// NewProbe returns a probe of the owner tokens of the shared object open
// as f, which may be open read-only. It takes no token and no lock (the
// flock mechanism tries a token file's lock for an instant, as every
// probe there does). It uses the first mechanism of [NewFileOwner]'s
// order that works on f; the probe must be closed.
func NewProbe(f *os.File) (*Probe, error) {
	if f == nil {
		return nil, errors.New("shm: probe file is nil")
	}
	var errs []error
	for _, newLocker := range probeLockers {
		lk, err := newLocker(f)
		if err == nil {
			return &Probe{lk: lk}, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("shm: no liveness probe on %s: %w", f.Name(), errors.Join(errs...))
}

// lockUnsupported reports whether err means "this descriptor takes no
// such locks", as opposed to a real failure.
func lockUnsupported(err error) bool {
	for _, e := range []error{unix.EINVAL, unix.EOPNOTSUPP, unix.ENOTSUP, unix.ENOLCK, unix.EBADF, unix.ENOSYS, unix.ENOTTY, unix.ENODEV} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tokenDir is the directory of per-token flock files. Test binaries set
// another with SetTokenDirForTest before any owner is made.
var tokenDir = "/tmp/.shm-owners"

// SetTokenDirForTest makes flock owners keep their token files in dir, so
// that a test run leaves nothing in /tmp/.shm-owners; every process that
// shares a mutex must use the same directory. Only test binaries call it,
// before making any owner.
func SetTokenDirForTest(dir string) { tokenDir = dir }

// flockTokenDir returns the directory of per-token lock files.
func flockTokenDir() string { return tokenDir }
