//go:build !unix

package dialect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// errNoOpen is the error of every file operation on a host without
// open(2) semantics (windows, js, wasip1).
func errNoOpen() error {
	return fmt.Errorf("dialect: shm objects cannot be opened on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

// Open opens the object name like this dialect's shm_open. This host has
// no POSIX open(2), so it always fails with an error wrapping
// errors.ErrUnsupported.
func (d *Dialect) Open(name string, flag int, perm fs.FileMode, opt OpenOptions) (*os.File, error) {
	return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errNoOpen()}
}

// Unlink removes the name like this dialect's shm_unlink. This host has
// no POSIX unlink(2) semantics for it, so it always fails with an error
// wrapping errors.ErrUnsupported.
func (d *Dialect) Unlink(name string) error {
	return &fs.PathError{Op: "shm_unlink", Path: name, Err: errNoOpen()}
}

// Create creates the object name exclusively and sized. This host has no
// POSIX open(2), so it always fails with an error wrapping
// errors.ErrUnsupported.
func (d *Dialect) Create(name string, size int64, perm fs.FileMode, reserve func(*os.File, int64) error) (*os.File, error) {
	return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errNoOpen()}
}

// CreateAnon creates an anonymous object. This host has no POSIX open(2),
// so it always fails with an error wrapping errors.ErrUnsupported.
func (d *Dialect) CreateAnon(size int64) (*os.File, error) {
	return nil, &fs.PathError{Op: "shm_open", Path: "(anonymous)", Err: errNoOpen()}
}

// canOpenDir reports whether p is a directory (only the Unix dialects
// open anything).
func canOpenDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
