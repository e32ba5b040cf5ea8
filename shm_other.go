//go:build !unix && !windows

package shm

import (
	"io/fs"
	"net"
	"os"
	"os/exec"
)

// This file is the complement of the supported systems (linux, freebsd,
// openbsd, netbsd, dragonfly, darwin, illumos, solaris, windows):
// everything compiles and returns an error wrapping errors.ErrUnsupported
// that names the OS.

type namedRef struct{ path string }

func (o *Object) control(op string, _ func(int) error) error {
	return &fs.PathError{Op: op, Path: o.describe(), Err: errUnsupported(op)}
}

func (o *Object) wrap(_ string, err error) error { return err }

// Size returns the object's current size; unsupported on this OS.
func (o *Object) Size() (int64, error) { return 0, o.control("fstat", nil) }

// Truncate sets the object's size; unsupported on this OS.
func (o *Object) Truncate(int64) error { return o.control("ftruncate", nil) }

// Map maps the whole object; unsupported on this OS.
func (o *Object) Map(...MapOption) (*Mapping, error) { return nil, o.control("mmap", nil) }

// MapReadOnly maps the whole object read-only; unsupported on this OS.
func (o *Object) MapReadOnly(...MapOption) (*Mapping, error) { return nil, o.control("mmap", nil) }

// MapRange maps part of the object; unsupported on this OS.
func (o *Object) MapRange(int64, int64, Access, ...MapOption) (*Mapping, error) {
	return nil, o.control("mmap", nil)
}

// NewObject adopts a descriptor; unsupported on this OS.
func NewObject(f *os.File) (*Object, error) {
	return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: errUnsupported("shared memory")}
}

func createAnon(int64) (*Object, error) { return nil, errUnsupported("CreateAnon") }

// handle stands in for the descriptor an Object owns on supported
// systems; no Object can be made here.
type handle struct{ name string }

func (*handle) close() error     { return nil }
func (*handle) closed() bool     { return false }
func (*handle) osFile() *os.File { return nil }

func (o *Object) dupFile() (*os.File, error) { return nil, o.control("dup", nil) }

func munmap([]byte) error { return errUnsupported("munmap") }

func msync([]byte) error { return errUnsupported("msync") }

// Pass arranges inheritance across exec; unsupported on this OS.
func Pass(*exec.Cmd, string, *Object) error { return errUnsupported("Pass") }

// Inherited finds an inherited object; unsupported on this OS.
func Inherited(string) (*Object, error) { return nil, errUnsupported("Inherited") }

// Send writes objects to a Unix socket; unsupported on this OS.
func Send(*net.UnixConn, ...*Object) error { return errUnsupported("Send") }

// Receive reads objects from a Unix socket; unsupported on this OS.
func Receive(*net.UnixConn) ([]*Object, error) { return nil, errUnsupported("Receive") }

func touchFD(int) error { return errUnsupported("futimes") }

func (o *Object) flockShared() (unlock func(), err error) { return nil, errUnsupported("flock") }

func (o *Object) checkName() error { return errUnsupported("Check") }

func validName(name string) error {
	return &fs.PathError{Op: "shm_open", Path: name, Err: errUnsupported("named objects")}
}

func openNamed(name string, _ openConfig) (*Object, error) {
	return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errUnsupported("named objects")}
}

func createNamed(name string, _ int64, _ fs.FileMode) (*Object, error) {
	return nil, &fs.PathError{Op: "shm_open", Path: name, Err: errUnsupported("named objects")}
}

func unlinkNamed(name string) error {
	return &fs.PathError{Op: "shm_unlink", Path: name, Err: errUnsupported("named objects")}
}

// Path returns the file that holds a named object; unsupported on this OS.
func (o *Object) Path() (string, error) { return "", errUnsupported("Path") }

// NamePath returns the file shm_open uses for name; unsupported on this OS.
func NamePath(name string) (string, error) {
	return "", &fs.PathError{Op: "shm_open", Path: name, Err: errUnsupported("named objects")}
}
