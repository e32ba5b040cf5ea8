//go:build linux || openbsd || netbsd || dragonfly || solaris

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"

	"github.com/shmkit/shm/internal/dialect"
	"github.com/shmkit/shm/internal/lock"
	"golang.org/x/sys/unix"
)

// hostDialect returns the file dialect of this OS.
var hostDialect = sync.OnceValues(func() (*dialect.Dialect, error) {
	return dialect.ForOS(runtime.GOOS)
})

// namedDialect returns the file dialect named objects use: this OS's, or,
// in a test binary, the one the test set (another system's rules rooted
// in a test directory, see dialect.SetTestHost).
func namedDialect() (*dialect.Dialect, error) {
	if d := dialect.TestHost(); d != nil {
		return d, nil
	}
	return hostDialect()
}

// namedRef remembers where a named object's name leads, for Check.
type namedRef struct {
	d    *dialect.Dialect
	path string
}

func validName(name string) error {
	d, err := namedDialect()
	if err != nil {
		return &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return explainName(d, name, d.Check(name))
}

func openNamed(name string, c openConfig) (*Object, error) {
	d, err := namedDialect()
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	flag := unix.O_RDWR
	if c.readOnly {
		flag = unix.O_RDONLY
	}
	f, err := d.Open(name, flag, 0, dialect.OpenOptions{AllowForeignOwner: c.foreignOwner})
	if err != nil {
		return nil, explainType(d, name, explainName(d, name, explainOwner(d, name, err)))
	}
	return newNamed(f, name, d, c.readOnly)
}

func createNamed(name string, size int64, perm fs.FileMode) (*Object, error) {
	d, err := namedDialect()
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	f, err := d.Create(name, size, perm, reserve)
	if err != nil {
		return nil, explainType(d, name, err)
	}
	return newNamed(f, name, d, false)
}

func newNamed(f *os.File, name string, d *dialect.Dialect, readOnly bool) (*Object, error) {
	path, err := d.Path(name)
	if err != nil {
		lock.CloseFile(f)
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	o := fileObject(f, "named-"+d.OS)
	o.name = name
	o.readOnly = readOnly
	o.named = &namedRef{d: d, path: path}
	return o, nil
}

func unlinkNamed(name string) error {
	d, err := namedDialect()
	if err != nil {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: err}
	}
	return explainName(d, name, d.Unlink(name))
}

// Path returns the file that holds a named object on this host, for
// operators and tools: "/dev/shm/NAME" on Linux, "/tmp/<sha256>.shm" on
// OpenBSD, and so on. It fails for anonymous objects.
func (o *Object) Path() (string, error) {
	if o.named == nil {
		return "", &fs.PathError{Op: "path", Path: o.describe(), Err: errors.New("anonymous objects have no path")}
	}
	return o.named.path, nil
}

// NamePath returns the file that shm_open uses for name on this host.
func NamePath(name string) (string, error) {
	d, err := namedDialect()
	if err != nil {
		return "", &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	p, err := d.Path(name)
	if err != nil {
		return "", &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return p, nil
}

// explainOwner adds whose object it is to an EPERM that the owner check
// returned, as the FreeBSD and darwin paths say it.
func explainOwner(d *dialect.Dialect, name string, err error) error {
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	path, perr := d.Path(name)
	if perr != nil {
		return err
	}
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || int(st.Uid) == os.Geteuid() {
		return err
	}
	return &fs.PathError{Op: "shm_open", Path: name,
		Err: fmt.Errorf("object belongs to uid %d, not to us (use AllowForeignOwner to accept it): %w", st.Uid, unix.EPERM)}
}

// explainType says what name leads to when the open failed with EINVAL
// because it is not a regular file (a FIFO, a directory, a symbolic
// link), as stat(1) would say it, instead of a bare "invalid argument".
func explainType(d *dialect.Dialect, name string, err error) error {
	if !errors.Is(err, unix.EINVAL) || d.Check(name) != nil {
		return err
	}
	path, perr := d.Path(name)
	if perr != nil {
		return err
	}
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFREG {
		return err
	}
	why := "not a shared-memory object"
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		why = "which shm_open never follows"
	}
	return &fs.PathError{Op: "shm_open", Path: name,
		Err: fmt.Errorf("%s is a %s, %s: %w", path, fileType(uint32(st.Mode)), why, unix.EINVAL)}
}
