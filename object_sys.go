//go:build unix || windows

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
)

// The methods of Object that are the same on the systems that have
// objects, over each system's raw handle (sysHandle): a descriptor on the
// Unix systems (object_unix.go), a section handle on windows
// (object_windows.go). Each system supplies mapOp, dupOp, dupRaw,
// fileControl, ownFile, adoptable, emptyHint and its mapRange.

// control runs fn with the object's raw handle, which stays valid for the
// duration of the call even if another goroutine closes the object: the
// reference fn runs under makes Close leave the close to release. fn
// must not keep the handle past its return; its value may be reused at
// once.
func (o *Object) control(op string, fn func(h sysHandle) error) error {
	if o == nil {
		return &fs.PathError{Op: op, Path: "<nil>", Err: fs.ErrInvalid}
	}
	if !o.h.acquire() {
		return o.errClosed(op)
	}
	defer o.h.release()
	return fn(o.h.raw())
}

// wrap turns a raw error from op into a *fs.PathError naming the object,
// leaving errors that already carry a path alone.
func (o *Object) wrap(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: op, Path: o.describe(), Err: err}
}

// checkTruncate checks Truncate's arguments: a valid size, and an object
// not opened read-only.
func (o *Object) checkTruncate(op string, size int64) error {
	if err := checkSize(size); err != nil {
		return &fs.PathError{Op: op, Path: o.describe(), Err: err}
	}
	if o != nil && o.readOnly && !o.h.closed() {
		return &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("object was opened read-only, its size cannot change: %w", fs.ErrPermission)}
	}
	return nil
}

// Map maps the whole object: read-write, or read-only if the object was
// opened read-only. The object must not be empty. The options
// ([Populate], [HugePages]) say how; on windows they change nothing.
func (o *Object) Map(opts ...MapOption) (*Mapping, error) {
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	access := ReadWrite
	if o.readOnly {
		access = ReadOnly
	}
	if size > math.MaxInt {
		return nil, &fs.PathError{Op: mapOp, Path: o.describe(),
			Err: fmt.Errorf("object size %d does not fit this platform's address space (%s)", size, runtime.GOARCH)}
	}
	return o.mapRange(mapOp, 0, size, access, mapOptions(opts), size)
}

// MapReadOnly maps the whole object read-only, with the options of
// [Object.Map].
func (o *Object) MapReadOnly(opts ...MapOption) (*Mapping, error) {
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	return o.mapRange(mapOp, 0, size, ReadOnly, mapOptions(opts), size)
}

// MapRange maps length bytes of the object starting at byte off. off need
// not be aligned: the mapping is widened internally to a page boundary
// (on windows, to the allocation granularity, 64 KiB) and the view starts
// at off. The range must lie within the object's current size. The
// options are those of [Object.Map].
func (o *Object) MapRange(off, length int64, access Access, opts ...MapOption) (*Mapping, error) {
	return o.mapRange(mapOp, off, length, access, mapOptions(opts), -1)
}

// checkRange checks mapRange's arguments against the object's size:
// size itself when the caller has just read it (Map), else read here
// (size -1), after the arguments are checked. Either way the size is a
// snapshot: another process may shrink the object after it, and accesses
// past the new end then fault, which is why ReadAt and WriteAt catch
// faults (see Mapping).
func (o *Object) checkRange(op string, off, length int64, access Access, size int64) error {
	if o == nil {
		return &fs.PathError{Op: op, Path: "<nil>", Err: fs.ErrInvalid}
	}
	if o.h.closed() {
		return o.errClosed(op)
	}
	if access != ReadWrite && access != ReadOnly {
		return &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("invalid access %v", access)}
	}
	if access == ReadWrite && o.readOnly {
		return &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("object was opened read-only: %w", fs.ErrPermission)}
	}
	if size < 0 {
		var err error
		if size, err = o.Size(); err != nil {
			return err
		}
	}
	switch {
	case size == 0:
		return &fs.PathError{Op: op, Path: o.describe(), Err: errors.New("object is empty (size 0)" + emptyHint)}
	case off < 0 || length <= 0:
		return &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("invalid range: offset %d, length %d", off, length)}
	case off > size || length > size-off:
		return &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("range [%d, %d) lies past the end of the %d-byte object", off, uint64(off)+uint64(length), size)}
	}
	return nil
}

// newMapping returns the Mapping of length bytes at off of the object,
// whose view ref starts skew bytes before off; if it cannot, it unmaps
// ref. The mapping owns a duplicate of the object's handle because a
// Mutex or Ring made on it later needs one for its liveness lock
// (lockOwner), and the Object may be closed by then: a Mapping outlives
// its Object.
func (o *Object) newMapping(ref []byte, skew, off, length int64, access Access) (*Mapping, error) {
	owner, err := o.dupFile()
	if err != nil {
		_ = munmap(ref)
		return nil, err
	}
	return &Mapping{
		ref:    ref,
		data:   ref[skew : skew+length : skew+length],
		off:    off,
		access: access,
		owner:  owner,
		name:   o.describe(),
	}, nil
}

// dupFile returns a duplicate of the object's handle as a file, not
// inherited by children (close-on-exec; on windows, not inheritable).
func (o *Object) dupFile() (*os.File, error) {
	var nh sysHandle
	err := o.control(dupOp, func(h sysHandle) error {
		var e error
		nh, e = dupRaw(h)
		return e
	})
	if err != nil {
		return nil, o.wrap(dupOp, err)
	}
	return os.NewFile(uintptr(nh), o.h.name), nil
}

// NewObject adopts f as an Object: on the Unix systems a descriptor
// received from another process or inherited across exec; on windows a
// section handle, duplicated from another process or inherited. The
// Object takes ownership of f: closing the Object closes f, so do not
// close or use f yourself afterwards ([Object.File] returns a duplicate
// when you need a file). f is made close-on-exec (on windows, not
// inheritable).
//
// NewObject rejects what is not a shared-memory object (a pipe, a socket,
// a directory, or a file on a disk filesystem; on windows, a handle that
// is not a section, or that lacks SECTION_QUERY and SECTION_MAP_READ
// access) with an error wrapping [ErrNotMemory]; f is left open in that
// case.
func NewObject(f *os.File) (*Object, error) {
	if f == nil {
		return nil, &fs.PathError{Op: "adopt", Path: "<nil>", Err: fs.ErrInvalid}
	}
	var readOnly bool
	var checkErr error
	var h sysHandle
	if err := fileControl(f, func(raw sysHandle) {
		h = raw
		readOnly, checkErr = adoptable(h)
	}); err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: err}
	}
	if checkErr != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: checkErr}
	}
	// h outlives the Control call because the Object now owns f, and with
	// it the handle: the caller has given f up.
	return ownFile(f, h, "adopted", readOnly), nil
}

// adoptRaw adopts the raw handle h, as NewObject does a file. On failure
// h is left open.
func adoptRaw(h sysHandle, name string) (*Object, error) {
	readOnly, err := adoptable(h)
	if err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: name, Err: err}
	}
	o := &Object{strategy: "adopted", readOnly: readOnly}
	o.h = newHandle(o, h, name)
	return o, nil
}

// newRawObject returns an Object that owns the raw handle h.
func newRawObject(h sysHandle, name, strategy string) *Object {
	o := &Object{strategy: strategy}
	o.h = newHandle(o, h, name)
	return o
}
