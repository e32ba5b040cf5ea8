package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Objects on Windows are sections (file-mapping objects) backed by the
// paging file: CreateFileMapping(INVALID_HANDLE_VALUE, ...). An Object
// holds a section handle where the Unix systems hold a descriptor.

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
	if err := o.checkTruncate("truncate", size); err != nil {
		return err
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

// mapRange maps length bytes at off; size is the object's size or -1
// (see checkRange).
func (o *Object) mapRange(op string, off, length int64, access Access, cfg mapConfig, size int64) (*Mapping, error) {
	err := o.checkRange(op, off, length, access, size)
	if err != nil {
		return nil, err
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
		if cfg.populate {
			// Windows has no call that maps a view's pages in ahead of
			// use: Populate is the pre-touch alone (see populate).
			if e := populate(ref, int64(os.Getpagesize()), access, nil); e != nil {
				_ = munmap(ref)
				return e
			}
		}
		return nil
	})
	if err != nil {
		return nil, o.wrap(op, err)
	}
	// The view keeps the section alive by itself; the duplicate handle
	// newMapping makes is what a Mutex would tie its owner to (see
	// lockOwner).
	return o.newMapping(ref, skew, off, length, access)
}

// The windows parts of object_sys.go.
const (
	mapOp     = "MapViewOfFile"
	dupOp     = "DuplicateHandle"
	emptyHint = ""
)

// dupRaw returns a non-inheritable duplicate of the handle h.
func dupRaw(h windows.Handle) (windows.Handle, error) {
	var nh windows.Handle
	p := windows.CurrentProcess()
	err := windows.DuplicateHandle(p, h, p, &nh, 0, false, windows.DUPLICATE_SAME_ACCESS)
	return nh, err
}

// fileControl runs fn with f's handle.
func fileControl(f *os.File, fn func(h windows.Handle)) error {
	fn(windows.Handle(f.Fd()))
	return nil
}

// ownFile returns an Object that owns f, whose handle is h.
func ownFile(f *os.File, h windows.Handle, strategy string, readOnly bool) *Object {
	o := &Object{strategy: strategy, readOnly: readOnly}
	o.h = &handle{h: h, name: f.Name()}
	o.h.file.Store(f)
	return o
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
