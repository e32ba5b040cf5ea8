//go:build unix

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// control runs fn with the object's descriptor, which stays valid for the
// duration of the call even if another goroutine closes the object: the
// reference fn runs under makes Close leave the close(2) to release. fn
// must not keep fd past its return; the number may be reused at once.
func (o *Object) control(op string, fn func(fd int) error) error {
	if o == nil {
		return &fs.PathError{Op: op, Path: "<nil>", Err: fs.ErrInvalid}
	}
	if !o.h.acquire() {
		return o.errClosed(op)
	}
	defer o.h.release()
	return fn(o.h.fd)
}

// Size returns the object's current size in bytes, as fstat(2) reports it.
// On darwin the kernel rounds the size up to a whole page.
func (o *Object) Size() (int64, error) {
	var st unix.Stat_t
	err := o.control("fstat", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Fstat(fd, &st) })
	})
	if err != nil {
		return 0, o.wrap("fstat", err)
	}
	return st.Size, nil
}

// Truncate sets the object's size. Growing adds zero bytes whose memory
// is reserved before the size changes (fallocate on Linux, zeros written
// on OpenBSD, NetBSD, DragonFly, illumos and Solaris; see [Create]), so a
// full /dev/shm fails here with ENOSPC instead of a later first touch
// raising SIGBUS; a failed grow leaves the size as it was. Shrinking an
// object that other processes have mapped makes their accesses past the
// new end fault (see [Mapping.ReadAt]). On darwin the kernel accepts
// exactly one size per object, set once before any mapping: a second
// Truncate fails with an error saying so. A read-only object cannot be
// truncated.
func (o *Object) Truncate(size int64) error {
	if err := checkSize(size); err != nil {
		return &fs.PathError{Op: "ftruncate", Path: o.describe(), Err: err}
	}
	if o != nil && o.readOnly && !o.h.closed() {
		return &fs.PathError{Op: "ftruncate", Path: o.describe(), Err: fmt.Errorf("object was opened read-only, its size cannot change: %w", fs.ErrPermission)}
	}
	err := o.control("ftruncate", func(fd int) error { return setSize(fd, size) })
	if err != nil {
		if runtime.GOOS == "darwin" && errors.Is(err, unix.EINVAL) {
			return &fs.PathError{Op: "ftruncate", Path: o.describe(),
				Err: fmt.Errorf("darwin allows one size per shared-memory object, set once: %w", err)}
		}
		return o.wrap("ftruncate", err)
	}
	return nil
}

// wrap turns a raw errno from op into a *fs.PathError naming the object,
// leaving errors that already carry a path alone.
func (o *Object) wrap(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: op, Path: o.describe(), Err: err}
}

// Map maps the whole object: read-write, or read-only if the object was
// opened read-only. The object must not be empty. The options
// ([Populate], [HugePages]) say how.
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
		return nil, &fs.PathError{Op: "mmap", Path: o.describe(),
			Err: fmt.Errorf("object size %d does not fit this platform's address space (%s)", size, runtime.GOARCH)}
	}
	return o.mapRange("mmap", 0, size, access, mapOptions(opts), size)
}

// MapReadOnly maps the whole object read-only, with the options of
// [Object.Map].
func (o *Object) MapReadOnly(opts ...MapOption) (*Mapping, error) {
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	return o.mapRange("mmap", 0, size, ReadOnly, mapOptions(opts), size)
}

// MapRange maps length bytes of the object starting at byte off. off need
// not be page-aligned (the mapping is widened internally to a page
// boundary and the view starts at off). The range must lie within the
// object's current size. The options are those of [Object.Map].
func (o *Object) MapRange(off, length int64, access Access, opts ...MapOption) (*Mapping, error) {
	return o.mapRange("mmap", off, length, access, mapOptions(opts), -1)
}

// mapRange maps length bytes at off. size is the object's size when the
// caller has just read it (Map), or -1 to have it read here, after the
// arguments are checked. Either way it is a snapshot: another process may
// shrink the object after it, and accesses past the new end then fault,
// which is why ReadAt and WriteAt catch faults (see Mapping).
func (o *Object) mapRange(op string, off, length int64, access Access, cfg mapConfig, size int64) (*Mapping, error) {
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
	var err error
	if size < 0 {
		if size, err = o.Size(); err != nil {
			return nil, err
		}
	}
	switch {
	case size == 0:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: errors.New("object is empty (size 0): Truncate it first")}
	case off < 0 || length <= 0:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("invalid range: offset %d, length %d", off, length)}
	case off > size || length > size-off:
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("range [%d, %d) lies past the end of the %d-byte object", off, uint64(off)+uint64(length), size)}
	}
	page := int64(os.Getpagesize())
	skew := off % page
	total := length + skew
	if total > math.MaxInt || total < 0 {
		return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("mapping of %d bytes does not fit this platform's address space", length)}
	}
	prot := unix.PROT_READ
	if access == ReadWrite {
		prot |= unix.PROT_WRITE
	}
	var ref []byte
	err = o.control(op, func(fd int) error {
		var e error
		if g := o.mapGranule(fd); g > page {
			// A hugetlb object maps and unmaps in whole huge pages.
			skew = off % g
			if total = (length + skew + g - 1) / g * g; total > math.MaxInt || total < 0 {
				return fmt.Errorf("mapping of %d bytes in %d-byte pages does not fit this platform's address space", length, g)
			}
		}
		ref, e = unix.Mmap(fd, off-skew, int(total), prot, unix.MAP_SHARED|mmapFlags(cfg))
		if e == nil {
			if e = adviseMapping(fd, off-skew, ref, cfg, access); e != nil {
				_ = unix.Munmap(ref)
			}
		}
		return e
	})
	if err != nil {
		if errors.Is(err, unix.EPERM) && access == ReadWrite {
			return nil, &fs.PathError{Op: op, Path: o.describe(), Err: fmt.Errorf("writable mapping refused (object sealed against writes?): %w", err)}
		}
		return nil, o.wrap(op, err)
	}
	// The mapping owns a descriptor of its own because a Mutex or Ring made
	// on it later needs one for its liveness lock (lockOwner), and the
	// Object may be closed by then: a Mapping outlives its Object. Closing
	// it goes through internal/lock, which keeps it open instead while
	// this process holds classic fcntl locks on the object.
	owner, err := o.dupFile()
	if err != nil {
		_ = unix.Munmap(ref)
		return nil, err
	}
	return keepDroppedOwner(&Mapping{
		ref:    ref,
		data:   ref[skew : skew+length : skew+length],
		off:    off,
		access: access,
		owner:  owner,
		name:   o.describe(),
	}), nil
}

// dupFile returns a close-on-exec duplicate of the object's descriptor.
func (o *Object) dupFile() (*os.File, error) {
	var nfd int
	err := o.control("dup", func(fd int) error {
		var e error
		nfd, e = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return e
	})
	if err != nil {
		return nil, o.wrap("dup", err)
	}
	return os.NewFile(uintptr(nfd), o.h.name), nil
}

// NewObject adopts f, a descriptor received from another process or
// inherited across exec, as an Object. The Object takes ownership of f:
// closing the Object closes f, so do not close or use f yourself
// afterwards ([Object.File] returns a duplicate when you need a file). f
// is made close-on-exec.
//
// NewObject rejects what is not a shared-memory object (a pipe, a socket,
// a directory, or a file on a disk filesystem) with an error wrapping
// [ErrNotMemory]; f is left open in that case.
func NewObject(f *os.File) (*Object, error) {
	if f == nil {
		return nil, &fs.PathError{Op: "adopt", Path: "<nil>", Err: fs.ErrInvalid}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: err}
	}
	var readOnly bool
	var checkErr error
	fd := -1
	if err := rc.Control(func(u uintptr) {
		fd = int(u)
		readOnly, checkErr = adoptable(fd)
	}); err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: err}
	}
	if checkErr != nil {
		return nil, &fs.PathError{Op: "adopt", Path: f.Name(), Err: checkErr}
	}
	// fd outlives the Control call because the Object now owns f, and with
	// it the descriptor: the caller has given f up.
	return collectFile(&Object{h: newFileHandle(f, fd), strategy: "adopted", readOnly: readOnly}), nil
}

// adoptFD adopts the raw descriptor fd, as NewObject does a file. On
// failure fd is left open.
func adoptFD(fd int, name string) (*Object, error) {
	readOnly, err := adoptable(fd)
	if err != nil {
		return nil, &fs.PathError{Op: "adopt", Path: name, Err: err}
	}
	o := &Object{strategy: "adopted", readOnly: readOnly}
	o.h = newHandle(o, fd, name)
	return o, nil
}

// adoptable checks that fd is a memory object, makes it close-on-exec and
// reports whether it is open read-only.
func adoptable(fd int) (readOnly bool, err error) {
	if err := isMemoryObject(fd); err != nil {
		return false, err
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return false, os.NewSyscallError("fcntl", err)
	}
	unix.CloseOnExec(fd)
	return flags&unix.O_ACCMODE == unix.O_RDONLY, nil
}

// newFDObject returns an Object that owns fd.
func newFDObject(fd int, name, strategy string) *Object {
	o := &Object{strategy: strategy}
	o.h = newHandle(o, fd, name)
	return o
}

// ignoringEINTR retries fn while it fails with EINTR.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}

// fileObject returns an Object that owns f.
func fileObject(f *os.File, strategy string) *Object {
	return collectFile(&Object{h: newFileHandle(f, int(f.Fd())), strategy: strategy})
}

// mapGranule returns the alignment of fd's mappings: the huge page size
// of a hugetlb (Linux) or SHM_LARGEPAGE (FreeBSD) object, else the page
// size. It asks the kernel once per Object; goroutines mapping at once
// may each ask, and store the same answer.
func (o *Object) mapGranule(fd int) int64 {
	if g := o.granule.Load(); g != 0 {
		return g
	}
	g := granule(fd)
	o.granule.Store(g)
	return g
}
