package dialect

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"syscall"
	"time"
)

// A Dialect holds the shm_open rules of one operating system. Get one with
// [ForOS]; the zero value is not usable. A Dialect is never modified after
// it is made, so it is safe for concurrent use.
type Dialect struct {
	// OS names the rules: "linux", "openbsd", "netbsd", "dragonfly",
	// "solaris" (also used for illumos), "freebsd" or "darwin".
	OS string

	// Dir is the directory where objects live as files: "/dev/shm",
	// "/tmp", "/var/shm", "/var/run/shm", or a test directory after
	// [Dialect.Rooted]. It is "" for the kernel dialects (freebsd,
	// darwin).
	Dir string

	// kernel marks the kernel dialects (freebsd, darwin).
	kernel bool
	// fallback is used instead of Dir when Dir does not exist
	// (dragonfly's newest libc falls back to /tmp). Rooted clears it.
	fallback string

	// rel maps a name to a path relative to the object directory, for
	// the object itself (typ is "" or, on solaris, the type prefix).
	// errno is the one shm_open would return for a bad name.
	rel func(name, typ string) (string, syscall.Errno)

	// unlinkNameErrno, when not 0, replaces every name error of
	// shm_unlink (glibc: ENOENT, darwin: EINVAL).
	unlinkNameErrno syscall.Errno
	// glibcErrnos maps shm_open's EISDIR to EINVAL and shm_unlink's
	// EPERM to EACCES, as glibc does.
	glibcErrnos bool
	// strictFlags accepts only O_RDONLY or O_RDWR plus
	// O_CREAT|O_EXCL|O_TRUNC|O_CLOEXEC|O_NOFOLLOW (openbsd).
	strictFlags bool
	// modeMask is applied to the permission bits of new objects.
	modeMask fs.FileMode
	// alwaysOwner refuses objects owned by another user whatever the
	// options say (openbsd).
	alwaysOwner bool
	// symlinkEINVAL makes a symbolic link where an object or lock file
	// should be EINVAL, checked with lstat before the open (solaris).
	symlinkEINVAL bool
	// lockType, when not "", is the type prefix of the lock file held
	// around every operation (solaris: ".SHML"), tried lockTries times
	// lockDelay apart.
	lockType  string
	lockTries int
	lockDelay time.Duration
	// lockPause waits lockDelay between tries: time.Sleep when nil. The
	// package's tests count the pauses instead of timing them.
	lockPause func(time.Duration)
	// dataType is the type prefix of object files (solaris: ".SHMD").
	dataType string
	// rejectWronly refuses O_WRONLY with EINVAL (dragonfly: every
	// posixshm.c since 2005).
	rejectWronly bool
	// posixShm sets the descriptor's status flags to exactly FPOSIXSHM
	// after each open (dragonfly's shm_open does F_SETFL FPOSIXSHM).
	// FPOSIXSHM is O_NOFOLLOW's bit reused as a file flag: the kernel's
	// mmap (vm_mmap.c, inherited from FreeBSD 4) adds MAP_NOSYNC to
	// shared mappings of such a descriptor, so the syncer does not write
	// the object's dirty pages to its file, which matters when the object
	// lives on a disk file system (the /tmp fallback). Setting the flags
	// to exactly that value also clears O_NONBLOCK and O_APPEND.
	posixShm bool
	// needTmpfs makes every operation fail with ENOTSUP unless the
	// directory is a tmpfs with mode 01777 (netbsd); fsType reports a
	// directory's file system type and can be replaced by tests.
	needTmpfs bool
	fsType    func(dir string) (string, error)
}

// OpenOptions adjusts [Dialect.Open].
type OpenOptions struct {
	// AllowForeignOwner accepts an existing object owned by another user.
	// By default such an object is refused with EPERM, because its owner
	// can resize or rewrite it at any time. OpenBSD's libc always
	// refuses, and so does the openbsd dialect whatever this says.
	AllowForeignOwner bool
}

// Standard values of the lock-file protocol of illumos and Solaris.
const (
	solarisLockTries = 64
	solarisLockDelay = time.Second
)

// NAME_MAX of the file systems that hold objects (tmpfs on every OS here).
const nameMax = 255

// ForOS returns the rules of goos, a GOOS value. "illumos" gets the
// solaris rules. Any other unknown value is an error wrapping
// [errors.ErrUnsupported].
func ForOS(goos string) (*Dialect, error) {
	d := &Dialect{OS: goos, modeMask: 0o777, fsType: hostFSType}
	switch goos {
	case "linux":
		d.Dir = "/dev/shm"
		d.rel = linuxRel
		d.unlinkNameErrno = syscall.ENOENT
		d.glibcErrnos = true
	case "openbsd":
		d.Dir = "/tmp"
		d.rel = openbsdRel
		d.strictFlags = true
		d.modeMask = 0o600
		d.alwaysOwner = true
	case "netbsd":
		d.Dir = "/var/shm"
		d.rel = netbsdRel
		d.needTmpfs = true
	case "dragonfly":
		d.Dir = "/var/run/shm"
		d.fallback = "/tmp"
		d.rel = dragonflyRel
		d.rejectWronly = true
		d.posixShm = true
	case "solaris", "illumos":
		d.OS = "solaris"
		d.Dir = "/tmp"
		d.rel = solarisRel
		d.symlinkEINVAL = true
		d.dataType = solarisDataType
		d.lockType = solarisLockType
		d.lockTries = solarisLockTries
		d.lockDelay = solarisLockDelay
	case "freebsd":
		d.kernel = true
		d.rel = freebsdRel
	case "darwin":
		d.kernel = true
		d.rel = darwinRel
		d.unlinkNameErrno = syscall.EINVAL
	default:
		return nil, fmt.Errorf("dialect: no shm_open rules for %q: %w", goos, errors.ErrUnsupported)
	}
	return d, nil
}

// Rooted returns a copy of d whose objects (and, for solaris, lock files
// and hash directories) live in dir instead, with no fallback directory.
// It serves tests and running another OS's rules on Linux. dir is cleaned
// with [path.Clean] (object paths always use slashes). A kernel dialect has no directory: Rooted
// returns an unchanged copy of it.
func (d *Dialect) Rooted(dir string) *Dialect {
	c := *d
	if !c.kernel {
		c.Dir = path.Clean(dir)
		c.fallback = ""
	}
	return &c
}

// LockRetry returns a copy of d whose lock-file protocol (solaris) tries
// tries times, delay apart, before failing with EEXIST. The libc values
// are 64 tries one second apart. It panics if tries < 1 or delay < 0.
func (d *Dialect) LockRetry(tries int, delay time.Duration) *Dialect {
	if tries < 1 || delay < 0 {
		panic(fmt.Sprintf("dialect: LockRetry(%d, %v): want tries >= 1 and delay >= 0", tries, delay))
	}
	c := *d
	c.lockTries = tries
	c.lockDelay = delay
	return &c
}

// File reports whether objects are files in [Dialect.Dir] (linux,
// openbsd, netbsd, dragonfly, solaris) rather than kernel objects
// (freebsd, darwin). Only file dialects can Open, Create, Unlink and
// CreateAnon.
func (d *Dialect) File() bool { return !d.kernel }

// String returns the OS name, with the directory for file dialects.
func (d *Dialect) String() string {
	if d.File() {
		return d.OS + ":" + d.Dir
	}
	return d.OS
}

// Check reports whether this OS's shm_open accepts name, returning the
// errno it would fail with ([syscall.EINVAL], [syscall.ENAMETOOLONG],
// [syscall.ENOENT]), or EINVAL for a name that breaks our own rule (a NUL
// byte, or "." or ".." as a component). It does no I/O.
func (d *Dialect) Check(name string) error {
	if _, e := d.mapName(name, d.dataType); e != 0 {
		return e
	}
	return nil
}

// CheckUnlink is [Dialect.Check] for shm_unlink, whose errno differs on
// some systems: glibc reports every bad name as ENOENT, darwin as EINVAL.
func (d *Dialect) CheckUnlink(name string) error {
	if _, e := d.mapUnlink(name); e != 0 {
		return e
	}
	return nil
}

// Path returns the file this OS's libc uses for name: for example
// "/dev/shm/x" for "/x" on linux, "/tmp/<sha256>.shm" on openbsd. A bad
// name gives the errno of [Dialect.Check]; a kernel dialect gives an error
// wrapping [errors.ErrUnsupported]. The result always lies inside the
// object directory. On dragonfly without /var/run/shm it lies in /tmp, as
// that libc's does.
func (d *Dialect) Path(name string) (string, error) {
	rel, e := d.mapName(name, d.dataType)
	if e != 0 {
		return "", e
	}
	if !d.File() {
		return "", d.errKernel()
	}
	return path.Join(d.dir(), rel), nil
}

// SemPath returns the file that holds the named semaphore name, for
// documentation and listings. Only openbsd is known: /tmp/<sha256>.sem.
func (d *Dialect) SemPath(name string) (string, error) {
	if d.OS != "openbsd" {
		return "", fmt.Errorf("dialect: semaphore files of %s are not known: %w", d.OS, errors.ErrUnsupported)
	}
	if e := checkOurs(name); e != 0 {
		return "", e
	}
	return path.Join(d.Dir, sha256Hex(name)+".sem"), nil
}

// mapName applies the libc rule, then ours, and returns the path relative
// to the object directory.
func (d *Dialect) mapName(name, typ string) (string, syscall.Errno) {
	if e := checkNUL(name); e != 0 {
		return "", e
	}
	rel, e := d.rel(name, typ)
	if e != 0 {
		return "", e
	}
	if e := checkOurs(name); e != 0 {
		return "", e
	}
	return rel, 0
}

// mapUnlink is mapName with shm_unlink's errno.
func (d *Dialect) mapUnlink(name string) (string, syscall.Errno) {
	rel, e := d.mapName(name, d.dataType)
	if e != 0 && d.unlinkNameErrno != 0 {
		e = d.unlinkNameErrno
	}
	return rel, e
}

// dir returns the directory objects live in now: Dir, or the fallback
// when Dir cannot be opened as a directory for any reason, as
// dragonfly's posixshm.c does (open("/var/run/shm", O_RDONLY|O_DIRECTORY)
// failing, whatever the errno, sends it to /tmp).
func (d *Dialect) dir() string {
	if d.fallback != "" {
		if !canOpenDir(d.Dir) {
			return d.fallback
		}
	}
	return d.Dir
}

// errKernel is the error for a file operation on a kernel dialect.
func (d *Dialect) errKernel() error {
	return fmt.Errorf("dialect: %s shared-memory objects are kernel objects, not files: %w", d.OS, errors.ErrUnsupported)
}
