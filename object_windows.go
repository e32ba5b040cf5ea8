package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Objects on Windows are sections (file-mapping objects) backed by the
// paging file: CreateFileMapping(INVALID_HANDLE_VALUE, ...). An Object
// holds a section handle where the Unix systems hold a descriptor.

// control runs fn with the object's section handle, which stays valid for
// the duration of the call even if another goroutine closes the object.
func (o *Object) control(op string, fn func(h windows.Handle) error) error {
	if o == nil {
		return &fs.PathError{Op: op, Path: "<nil>", Err: fs.ErrInvalid}
	}
	if !o.h.acquire() {
		return o.errClosed(op)
	}
	defer o.h.release()
	return fn(o.h.h)
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

// Size returns the object's size in bytes. On Windows it is the section's
// size as NtQuerySection reports it, fixed when the section was made.
func (o *Object) Size() (int64, error) {
	var size int64
	err := o.control("NtQuerySection", func(h windows.Handle) error {
		var e error
		size, e = sectionSize(h)
		return e
	})
	if err != nil {
		return 0, o.wrap("NtQuerySection", err)
	}
	return size, nil
}

// errFixedSize is the cause of Truncate's error on Windows.
var errFixedSize = fmt.Errorf("a Windows section's size is fixed when it is made: %w", errors.ErrUnsupported)

// Truncate sets the object's size. A Windows section cannot change size:
// Truncate to the current size does nothing and returns nil, any other
// size returns an error wrapping [errors.ErrUnsupported] that says so.
func (o *Object) Truncate(size int64) error {
	if err := checkSize(size); err != nil {
		return &fs.PathError{Op: "truncate", Path: o.describe(), Err: err}
	}
	if o != nil && o.readOnly && !o.h.closed() {
		return &fs.PathError{Op: "truncate", Path: o.describe(), Err: fmt.Errorf("object was opened read-only, its size cannot change: %w", fs.ErrPermission)}
	}
	cur, err := o.Size()
	if err != nil {
		return err
	}
	if cur != size {
		return &fs.PathError{Op: "truncate", Path: o.describe(), Err: fmt.Errorf("%w (it is %d bytes; %d asked)", errFixedSize, cur, size)}
	}
	return nil
}

// Map maps the whole object: read-write, or read-only if the object was
// opened read-only. [Populate] and [HugePages] change nothing on Windows.
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
		return nil, &fs.PathError{Op: "MapViewOfFile", Path: o.describe(),
			Err: fmt.Errorf("object size %d does not fit this platform's address space (%s)", size, runtime.GOARCH)}
	}
	return o.mapRange("MapViewOfFile", 0, size, access, mapOptions(opts))
}

// MapReadOnly maps the whole object read-only.
func (o *Object) MapReadOnly(opts ...MapOption) (*Mapping, error) {
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	return o.mapRange("MapViewOfFile", 0, size, ReadOnly, mapOptions(opts))
}

// MapRange maps length bytes of the object starting at byte off, which
// need not be aligned (on Windows the view starts at a multiple of the
// allocation granularity, 64 KiB, and the mapping begins at off within
// it). The range must lie within the object.
func (o *Object) MapRange(off, length int64, access Access, opts ...MapOption) (*Mapping, error) {
	return o.mapRange("MapViewOfFile", off, length, access, mapOptions(opts))
}

func (o *Object) mapRange(op string, off, length int64, access Access, _ mapConfig) (*Mapping, error) {
	if o == nil {
		return nil, &fs.PathError{Op: op, Path: "<nil>", Err: fs.ErrInvalid}
	}
	if o.h.closed() {
		return nil, o.errClosed(op)
	}
	if access != ReadWrite && access != ReadOnly {
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("invalid access %v", access)}
	}
	if access == ReadWrite && o.readOnly {
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("object was opened read-only: %w", fs.ErrPermission)}
	}
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	switch {
	case size == 0:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: errors.New("object is empty (size 0)")}
	case off < 0 || length <= 0:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("invalid range: offset %d, length %d", off, length)}
	case off > size || length > size-off:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("range [%d, %d) lies past the end of the %d-byte object", off, uint64(off)+uint64(length), size)}
	}
	skew := off % allocationGranularity()
	total := length + skew
	if total > math.MaxInt || total < 0 || uint64(total) > uint64(^uintptr(0)) {
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("mapping of %d bytes does not fit this platform's address space", length)}
	}
	want := uint32(sectionMapRead)
	if access == ReadWrite {
		want |= sectionMapWrite
	}
	var ref []byte
	err = o.control(op, func(h windows.Handle) error {
		start := uint64(off - skew)
		addr, e := windows.MapViewOfFile(h, want, uint32(start>>32), uint32(start), uintptr(total))
		if e != nil {
			return e
		}
		ref = unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), int(total))
		return nil
	})
	if err != nil {
		return nil, o.wrap(op, err)
	}
	// The view keeps the section alive by itself; the duplicate handle is
	// what a Mutex would tie its owner to (see lockOwner).
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

// dupFile returns a duplicate of the object's section handle as a file;
// the duplicate is not inheritable.
func (o *Object) dupFile() (*os.File, error) {
	var nh windows.Handle
	err := o.control("DuplicateHandle", func(h windows.Handle) error {
		p := windows.CurrentProcess()
		return windows.DuplicateHandle(p, h, p, &nh, 0, false, windows.DUPLICATE_SAME_ACCESS)
	})
	if err != nil {
		return nil, o.wrap("DuplicateHandle", err)
	}
	return os.NewFile(uintptr(nh), o.h.name), nil
}

// NewObject adopts f, which must hold a section handle (from another
// process's DuplicateHandle, or inherited), as an Object. The Object
// takes ownership of f. The handle is made non-inheritable. NewObject
// rejects a handle that is not a section, or that lacks SECTION_QUERY
// and SECTION_MAP_READ access, with an error wrapping [ErrNotMemory];
// f is left open in that case.
func NewObject(f *os.File) (*Object, error) {
	if f == nil {
		return nil, &fs.PathError{Op: "adopt", Path: "<nil>", Err: fs.ErrInvalid}
	}
	readOnly, err := adoptable(windows.Handle(f.Fd()))
	if err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: err}
	}
	o := &Object{strategy: "adopted", readOnly: readOnly}
	o.h = &handle{h: windows.Handle(f.Fd()), name: f.Name()}
	o.h.file.Store(f)
	return o, nil
}

// adoptHandle adopts the raw section handle h, as NewObject does a file.
// On failure h is left open.
func adoptHandle(h windows.Handle, name string) (*Object, error) {
	readOnly, err := adoptable(h)
	if err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: name, Err: err}
	}
	o := &Object{strategy: "adopted", readOnly: readOnly}
	o.h = newHandle(o, h, name)
	return o, nil
}

// adoptable checks that h is a section this process may query and map,
// makes it non-inheritable and reports whether it maps read-only.
func adoptable(h windows.Handle) (readOnly bool, err error) {
	access, err := grantedAccess(h)
	if err != nil {
		return false, fmt.Errorf("%w: NtQueryObject: %w", ErrNotMemory, err)
	}
	if _, err := sectionSize(h); err != nil {
		return false, fmt.Errorf("%w: not a section handle with SECTION_QUERY access (NtQuerySection: %w)", ErrNotMemory, err)
	}
	if access&sectionMapRead == 0 {
		return false, fmt.Errorf("%w: the section handle lacks SECTION_MAP_READ access", ErrNotMemory)
	}
	if err := windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, 0); err != nil {
		return false, os.NewSyscallError("SetHandleInformation", err)
	}
	return access&sectionMapWrite == 0, nil
}

// newSectionObject returns an Object that owns the section handle h.
func newSectionObject(h windows.Handle, name, strategy string) *Object {
	o := &Object{strategy: strategy}
	o.h = newHandle(o, h, name)
	return o
}

// munmap unmaps a view made by mapRange.
func munmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// msync writes a view's changes back (FlushViewOfFile). A section backed
// by the paging file has nothing to write back; the call is still made.
func msync(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return windows.FlushViewOfFile(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
}
