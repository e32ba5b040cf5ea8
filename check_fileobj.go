//go:build linux || openbsd || netbsd || dragonfly || solaris

package shm

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// checkName compares the file the name leads to with the object's
// descriptor (device and inode).
func (o *Object) checkName() error {
	have, err := o.fstat()
	if err != nil {
		return err
	}
	var now unix.Stat_t
	err = ignoringEINTR(func() error { return unix.Lstat(o.named.path, &now) })
	switch {
	case errors.Is(err, unix.ENOENT):
		return &fs.PathError{Op: "check", Path: o.name, Err: fmt.Errorf("%w: %s was removed", ErrNameLost, o.named.path)}
	case err != nil:
		return &fs.PathError{Op: "check", Path: o.name, Err: err}
	case now.Dev != have.Dev || now.Ino != have.Ino:
		return &fs.PathError{Op: "check", Path: o.name, Err: fmt.Errorf("%w: %s now holds another object", ErrNameLost, o.named.path)}
	}
	return nil
}
