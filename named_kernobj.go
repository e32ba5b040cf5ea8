//go:build freebsd || darwin

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/shmkit/shm/internal/dialect"
	"github.com/shmkit/shm/internal/kern"
	"github.com/shmkit/shm/internal/lock"
	"golang.org/x/sys/unix"
)

// On FreeBSD and darwin the kernel holds the names: shm_open2 (FreeBSD)
// and libSystem's shm_open (darwin) are called directly.

// namedRef remembers a named object's name, for Check.
type namedRef struct{ path string }

var kernelDialect = sync.OnceValues(func() (*dialect.Dialect, error) { return dialect.ForOS(runtime.GOOS) })

func validName(name string) error {
	d, err := kernelDialect()
	if err != nil {
		return &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return explainName(d, name, d.Check(name))
}

// kernelOpen opens name with flags, checks the owner, and wraps the fd.
func kernelOpen(name string, flags int, perm fs.FileMode, foreign, readOnly bool) (*Object, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	fd, err := kern.ShmOpen(name, flags|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	if !foreign {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			lock.CloseFD(fd)
			return nil, &fs.PathError{Op: "shm_open", Path: name, Err: err}
		}
		if int(st.Uid) != os.Geteuid() {
			lock.CloseFD(fd)
			return nil, &fs.PathError{Op: "shm_open", Path: name,
				Err: fmt.Errorf("object belongs to uid %d, not to us (use AllowForeignOwner to accept it): %w", st.Uid, unix.EPERM)}
		}
	}
	o := newRawObject(fd, "shm:"+name, "named-"+runtime.GOOS)
	o.name = name
	o.readOnly = readOnly
	o.named = &namedRef{path: name}
	return o, nil
}

func openNamed(name string, c openConfig) (*Object, error) {
	flags := unix.O_RDWR
	if c.readOnly {
		flags = unix.O_RDONLY
	}
	o, err := kernelOpen(name, flags, 0, c.foreignOwner, c.readOnly)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS == "darwin" {
		// darwin cannot publish a sized object atomically: give its
		// creator a moment to set the size.
		for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); {
			if size, err := o.Size(); err != nil || size > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return o, nil
}

func createNamed(name string, size int64, perm fs.FileMode) (*Object, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	const excl = unix.O_RDWR | unix.O_CREAT | unix.O_EXCL
	if runtime.GOOS == "darwin" {
		o, err := kernelOpen(name, excl, perm, true, false)
		if err != nil {
			return nil, err
		}
		if !sizeAtCreate(runtime.GOOS, size) {
			return o, nil
		}
		if err := o.Truncate(size); err != nil {
			o.Close()
			_ = kern.ShmUnlink(name)
			return nil, err
		}
		return o, nil
	}
	// FreeBSD: make and size a temporary object, then rename it to the
	// name without replacing anything.
	d, err := kernelDialect()
	if err != nil {
		return nil, err
	}
	for range 16 {
		tmp := d.RandomName()
		o, err := kernelOpen(tmp, excl, perm, true, false)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errors.Unwrap(err)}
		}
		if err := o.Truncate(size); err != nil {
			o.Close()
			_ = kern.ShmUnlink(tmp)
			return nil, &fs.PathError{Op: "ftruncate", Path: name, Err: errors.Unwrap(err)}
		}
		if err := kern.ShmRename(tmp, name, kern.RenameNoReplace); err != nil {
			o.Close()
			_ = kern.ShmUnlink(tmp)
			return nil, &fs.PathError{Op: "shm_rename", Path: name, Err: err}
		}
		o.name = name
		o.named = &namedRef{path: name}
		return o, nil
	}
	return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errors.New("16 temporary names in a row were taken")}
}

func unlinkNamed(name string) error {
	if err := validName(name); err != nil {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: errors.Unwrap(err)}
	}
	if err := kern.ShmUnlink(name); err != nil {
		return &fs.PathError{Op: "shm_unlink", Path: name, Err: err}
	}
	return nil
}

// checkName opens the name again and compares the objects. darwin's
// kernel reports no inode for shm objects, so there Check sees a removed
// name but cannot tell a replaced one.
func (o *Object) checkName() error {
	fd, err := kern.ShmOpen(o.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return &fs.PathError{Op: "check", Path: o.name, Err: fmt.Errorf("%w: the name was removed", ErrNameLost)}
	}
	if err != nil {
		return &fs.PathError{Op: "check", Path: o.name, Err: err}
	}
	defer lock.CloseFD(fd)
	if runtime.GOOS == "darwin" {
		return nil
	}
	var have, now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return &fs.PathError{Op: "check", Path: o.name, Err: err}
	}
	if err := o.control("fstat", func(fd int) error { return unix.Fstat(fd, &have) }); err != nil {
		return o.wrap("fstat", err)
	}
	if now.Dev != have.Dev || now.Ino != have.Ino {
		return &fs.PathError{Op: "check", Path: o.name, Err: fmt.Errorf("%w: the name now holds another object", ErrNameLost)}
	}
	return nil
}

// Path returns where a named object lives. On FreeBSD and darwin objects
// are not files: the path is the name itself.
func (o *Object) Path() (string, error) {
	if o.named == nil {
		return "", &fs.PathError{Op: "path", Path: o.describe(), Err: errors.New("anonymous objects have no path")}
	}
	return o.named.path, nil
}

// NamePath returns where shm_open keeps name. On FreeBSD and darwin
// objects are not files: the path is the name itself.
func NamePath(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	return name, nil
}
