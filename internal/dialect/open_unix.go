//go:build unix

package dialect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/shmkit/shm/internal/lock"
	"golang.org/x/sys/unix"
)

// forcedFlags are added to every open: symbolic links are never followed,
// descriptors never leak across exec, and a terminal device never becomes
// the controlling terminal.
const forcedFlags = unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY

// openbsdFlags are the flags OpenBSD's shm_open accepts besides the access
// mode (OK_FLAGS of 2015 to 2025; O_CLOFORK, added in 2025, has no
// equivalent on most hosts).
const openbsdFlags = unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_CLOEXEC | unix.O_NOFOLLOW

// tempTries bounds the random names tried by Create and CreateAnon before
// giving up with EEXIST. With 112 random bits a second try already means
// something else is wrong.
const tempTries = 16

// Open opens the object name like this OS's shm_open(name, flag, perm),
// but with the host's open(2). flag takes the host's O_ constants: an
// access mode plus O_CREAT, O_EXCL, O_TRUNC and so on. O_NOFOLLOW and
// O_CLOEXEC are always added; perm is masked as that libc masks it (0777,
// openbsd 0600) and the umask applies.
//
// Open never follows a symbolic link (ELOOP from the host; EINVAL on
// solaris, as there), refuses anything but a regular file with EINVAL
// (glibc turns the EISDIR of a directory into EINVAL too), and refuses an
// object owned by another user with EPERM unless
// opt.AllowForeignOwner is set (openbsd: always). It truncates only when
// flag has O_TRUNC, and only after those checks; O_TRUNC needs write
// access (else EINVAL). The solaris dialect holds the .SHML lock file
// around the open; the netbsd dialect fails with ENOTSUP unless the
// directory is a tmpfs with mode 01777.
//
// Errors are *fs.PathError with Op "shm_open", Path name and, as Err, the
// errno libc would give (so errors.Is works with fs.ErrExist,
// fs.ErrNotExist and fs.ErrPermission). Kernel dialects (freebsd,
// darwin) check the name, then fail with an error wrapping
// errors.ErrUnsupported: the caller makes those system calls itself.
//
// The returned file is named after the object's path.
func (d *Dialect) Open(name string, flag int, perm fs.FileMode, opt OpenOptions) (*os.File, error) {
	f, err := d.open(name, flag, perm, opt)
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return f, nil
}

func (d *Dialect) open(name string, flag int, perm fs.FileMode, opt OpenOptions) (*os.File, error) {
	if d.kernel {
		if _, e := d.mapName(name, d.dataType); e != 0 {
			return nil, e
		}
		return nil, d.errKernel()
	}
	dir := d.dir()
	if err := d.checkFS(dir); err != nil {
		return nil, err
	}
	acc := flag & unix.O_ACCMODE
	if d.rejectWronly && acc == unix.O_WRONLY {
		return nil, syscall.EINVAL
	}
	if d.strictFlags && (acc != unix.O_RDONLY && acc != unix.O_RDWR || flag&^(unix.O_ACCMODE|openbsdFlags) != 0) {
		return nil, syscall.EINVAL
	}
	rel, e := d.mapName(name, d.dataType)
	if e != 0 {
		return nil, e
	}
	trunc := flag&unix.O_TRUNC != 0
	if trunc && acc == unix.O_RDONLY {
		return nil, syscall.EINVAL
	}
	unlock, err := d.lock(dir, name)
	if err != nil {
		return nil, err
	}
	f, err := d.openLocked(dir, rel, flag&^unix.O_TRUNC, perm, opt, trunc)
	if uerr := unlock(); uerr != nil && err == nil {
		f.Close()
		return nil, uerr
	}
	return f, err
}

// openLocked opens dir/rel with the dialect's flags and checks; the lock,
// if any, is held.
func (d *Dialect) openLocked(dir, rel string, flag int, perm fs.FileMode, opt OpenOptions, trunc bool) (*os.File, error) {
	path := filepath.Join(dir, rel)
	if flag&unix.O_CREAT != 0 {
		if err := makeHashDirs(dir, rel); err != nil {
			return nil, err
		}
	}
	fd, err := d.openFile(path, flag, perm)
	if err != nil {
		cleanHashDirs(dir, rel)
		if d.glibcErrnos && err == syscall.EISDIR {
			err = syscall.EINVAL
		}
		return nil, err
	}
	if err := d.verify(fd, opt); err != nil {
		lock.CloseFD(fd)
		return nil, err
	}
	if trunc {
		if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, 0) }); err != nil {
			lock.CloseFD(fd)
			return nil, err
		}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openFile opens path with the forced flags, checking first for a
// symbolic link where the dialect does (solaris). O_NONBLOCK keeps a FIFO
// from blocking the open; it is cleared again on success.
func (d *Dialect) openFile(path string, flag int, perm fs.FileMode) (int, error) {
	if d.symlinkEINVAL {
		var st unix.Stat_t
		if unix.Lstat(path, &st) == nil && uint32(st.Mode)&unix.S_IFMT == unix.S_IFLNK {
			return -1, syscall.EINVAL
		}
	}
	var fd int
	err := ignoringEINTR(func() error {
		var err error
		fd, err = unix.Open(path, flag|forcedFlags|unix.O_NONBLOCK, uint32(perm.Perm()&d.modeMask))
		return err
	})
	if err != nil {
		return -1, err
	}
	if d.posixShm {
		// F_SETFL FPOSIXSHM (FPOSIXSHM is O_NOFOLLOW's value): see the
		// posixShm field. On hosts whose F_SETFL ignores that bit (Linux,
		// where tests run these rules) only O_NONBLOCK is cleared.
		err = ignoringEINTR(func() error {
			_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_NOFOLLOW)
			return err
		})
	} else {
		err = unix.SetNonblock(fd, false)
	}
	if err != nil {
		lock.CloseFD(fd)
		return -1, err
	}
	return fd, nil
}

// verify is the check after the open: a regular file (EINVAL) owned by
// the effective user (EPERM) unless foreign owners are allowed. OpenBSD's
// libc compares st_uid with geteuid() since lib/libc/gen/shm_open.c 1.10
// (2025, the release that added O_CLOFORK); 1.7 to 1.9 used getuid(),
// which refused the very object a setuid program had just created with
// O_CREAT (owned by its effective uid). Every OpenBSD release still
// supported has the geteuid() code, so that is what this matches.
func (d *Dialect) verify(fd int, opt OpenOptions) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return syscall.EINVAL
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		return syscall.EINVAL
	}
	if (d.alwaysOwner || !opt.AllowForeignOwner) && st.Uid != uint32(unix.Geteuid()) {
		return syscall.EPERM
	}
	return nil
}

// Unlink removes the name like this OS's shm_unlink: the object lives on
// while it is open or mapped. Errors are *fs.PathError with Op
// "shm_unlink" and that libc's errno: glibc reports a bad name as ENOENT
// and EPERM as EACCES. The solaris dialect holds the .SHML lock file and
// removes the hash directories of long names; the netbsd dialect fails
// with ENOTSUP unless the directory is a tmpfs with mode 01777. Kernel
// dialects check the name, then fail with an error wrapping
// errors.ErrUnsupported.
func (d *Dialect) Unlink(name string) error {
	if err := d.unlink(name); err != nil {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: err}
	}
	return nil
}

func (d *Dialect) unlink(name string) error {
	if d.kernel {
		if _, e := d.mapUnlink(name); e != 0 {
			return e
		}
		return d.errKernel()
	}
	dir := d.dir()
	if err := d.checkFS(dir); err != nil {
		return err
	}
	rel, e := d.mapUnlink(name)
	if e != 0 {
		return e
	}
	unlock, err := d.lock(dir, name)
	if err != nil {
		return err
	}
	err = ignoringEINTR(func() error { return unix.Unlink(filepath.Join(dir, rel)) })
	cleanHashDirs(dir, rel)
	if d.glibcErrnos && err == syscall.EPERM {
		err = syscall.EACCES
	}
	if uerr := unlock(); err == nil {
		err = uerr
	}
	return err
}

// Create creates the object name, exclusively, sized to size bytes, and
// publishes it only once it is fully sized, the way glibc's sem_open
// publishes a semaphore:
//
//  1. a temporary object with a random name is created in the same
//     directory (O_RDWR|O_CREAT|O_EXCL, mode perm masked as Open masks
//     it, umask applied);
//  2. it is ftruncated to size, then reserve(f, size) runs when reserve
//     is not nil (on Linux the caller passes posix_fallocate, so that a
//     full tmpfs fails here with ENOSPC instead of SIGBUS later);
//  3. link(2) gives it its final name, failing with EEXIST when the name
//     exists, whatever it is (a dangling symbolic link too);
//  4. the temporary name is unlinked.
//
// A process that opens the name therefore never sees a short object, and
// on any error nothing is left behind. The solaris dialect holds the
// .SHML lock file throughout, as its shm_open does.
//
// Errors are *fs.PathError for name: Op "shm_open" with the errno (so
// errors.Is(err, fs.ErrExist) when the name is taken), "ftruncate" or
// "reserve". Kernel dialects check the name, then fail with an error
// wrapping errors.ErrUnsupported. The returned file is named after the final path.
func (d *Dialect) Create(name string, size int64, perm fs.FileMode, reserve func(*os.File, int64) error) (*os.File, error) {
	if d.kernel {
		err := d.errKernel()
		if _, e := d.mapName(name, d.dataType); e != 0 {
			err = e
		}
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	dir := d.dir()
	if err := d.checkFS(dir); err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	rel, e := d.mapName(name, d.dataType)
	if e == 0 && size < 0 {
		e = syscall.EINVAL
	}
	if e != 0 {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: e}
	}
	unlock, err := d.lock(dir, name)
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	f, err := d.createLocked(dir, rel, name, size, perm, reserve)
	if uerr := unlock(); uerr != nil && err == nil {
		// The object is complete and published; only the lock file is
		// stuck. Report it, as illumos' shm_open does, but keep the
		// object: another process may already use it.
		f.Close()
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: uerr}
	}
	return f, err
}

func (d *Dialect) createLocked(dir, rel, name string, size int64, perm fs.FileMode, reserve func(*os.File, int64) error) (*os.File, error) {
	if err := makeHashDirs(dir, rel); err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	final := filepath.Join(dir, rel)
	fd, tmp, err := d.createTemp(dir, perm)
	if err != nil {
		cleanHashDirs(dir, rel)
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	// The one *os.File for fd, named after the final path from the start
	// (a second *os.File for fd would close it when collected).
	f := os.NewFile(uintptr(fd), final)
	fail := func(op string, err error) (*os.File, error) {
		f.Close()
		unix.Unlink(tmp)
		cleanHashDirs(dir, rel)
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		return fail("ftruncate", err)
	}
	if reserve != nil {
		if err := reserve(f, size); err != nil {
			return fail("reserve", err)
		}
	}
	if err := ignoringEINTR(func() error { return unix.Link(tmp, final) }); err != nil {
		return fail("shm_open", err)
	}
	if err := ignoringEINTR(func() error { return unix.Unlink(tmp) }); err != nil {
		// Both names lead to the object; take both away again.
		unix.Unlink(final)
		return fail("shm_open", err)
	}
	return f, nil
}

// createTemp creates a new object under a random name in dir, exclusively,
// with mode perm masked as Open masks it. It returns the descriptor and
// the path.
func (d *Dialect) createTemp(dir string, perm fs.FileMode) (int, string, error) {
	for range tempTries {
		rel, e := d.mapName(d.RandomName(), d.dataType)
		if e != 0 {
			return -1, "", e // cannot happen: random names are portable
		}
		path := filepath.Join(dir, rel)
		fd, err := d.openFile(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, perm)
		if err == syscall.EEXIST {
			continue
		}
		if err != nil {
			return -1, "", err
		}
		return fd, path, nil
	}
	return -1, "", fmt.Errorf("%d random names in a row were taken in %s: %w", tempTries, dir, syscall.EEXIST)
}

// CreateAnon creates an anonymous object of size bytes: a random name
// (see [Dialect.RandomName]) is created in the object directory with
// O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC and mode 0600 (retried on
// EEXIST a bounded number of times), unlinked at once, and sized with
// ftruncate. It is the shm_mkstemp-then-shm_unlink route on openbsd and
// the random-name route elsewhere. The solaris lock file is not taken:
// nobody else knows the name. The netbsd dialect fails with ENOTSUP unless
// the directory is a tmpfs with mode 01777. Kernel dialects fail with an
// error wrapping errors.ErrUnsupported.
//
// Errors are *fs.PathError with Op "shm_open", "shm_unlink" or
// "ftruncate".
func (d *Dialect) CreateAnon(size int64) (*os.File, error) {
	const anon = "(anonymous)"
	if d.kernel {
		return nil, &fs.PathError{Op: "shm_open", Path: anon, Err: d.errKernel()}
	}
	if size < 0 {
		return nil, &fs.PathError{Op: "shm_open", Path: anon, Err: syscall.EINVAL}
	}
	dir := d.dir()
	if err := d.checkFS(dir); err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: anon, Err: err}
	}
	fd, path, err := d.createTemp(dir, 0o600)
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: anon, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := ignoringEINTR(func() error { return unix.Unlink(path) }); err != nil {
		f.Close()
		unix.Unlink(path)
		return nil, &fs.PathError{Op: "shm_unlink", Path: path, Err: err}
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "ftruncate", Path: path, Err: err}
	}
	return f, nil
}

// checkFS is NetBSD's _shm_check_fs for dir: a tmpfs whose mode includes
// 01777, else ENOTSUP (wrapped with the reason). A symbolic link is
// followed, as librt does: since lib/librt/shm.c 1.3 (2015) it opens the
// directory with O_DIRECTORY and checks that descriptor's fstatvfs1 and
// fstat (only the 2014 branch revision 1.1.8.2 used lstat).
func (d *Dialect) checkFS(dir string) error {
	if !d.needTmpfs {
		return nil
	}
	typ, err := d.fsType(dir)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", dir, err, syscall.ENOTSUP)
	}
	if typ != "tmpfs" {
		return fmt.Errorf("%s is %s, not tmpfs: %w", dir, typ, syscall.ENOTSUP)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("%s: %v: %w", dir, err, syscall.ENOTSUP)
	}
	const want = unix.S_ISVTX | 0o777
	if uint32(st.Mode)&want != want {
		return fmt.Errorf("%s has mode %#o, not 01777: %w", dir, uint32(st.Mode)&0o7777, syscall.ENOTSUP)
	}
	return nil
}

// ignoringEINTR retries fn while it fails with EINTR.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// canOpenDir reports whether open(p, O_RDONLY|O_DIRECTORY) succeeds.
func canOpenDir(p string) bool {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
