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

// Size returns the object's current size in bytes, as fstat(2) reports it.
// On darwin the kernel rounds the size up to a whole page.
func (o *Object) Size() (int64, error) {
	st, err := o.fstat()
	if err != nil {
		return 0, err
	}
	return st.Size, nil
}

// fstat returns what fstat(2) says of the object's descriptor, or the
// error wrapped as a *fs.PathError naming the object.
func (o *Object) fstat() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := o.control("fstat", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Fstat(fd, &st) })
	})
	if err != nil {
		return st, o.wrap("fstat", err)
	}
	return st, nil
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
	if err := o.checkTruncate("ftruncate", size); err != nil {
		return err
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

// mapRange maps length bytes at off; size is the object's size or -1
// (see checkRange).
func (o *Object) mapRange(op string, off, length int64, access Access, cfg mapConfig, size int64) (*Mapping, error) {
	err := o.checkRange(op, off, length, access, size)
	if err != nil {
		return nil, err
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
		g := o.mapGranule(fd)
		if g > page {
			// A hugetlb object maps and unmaps in whole huge pages.
			skew = off % g
			if total = (length + skew + g - 1) / g * g; total > math.MaxInt || total < 0 {
				return fmt.Errorf("mapping of %d bytes in %d-byte pages does not fit this platform's address space", length, g)
			}
		}
		ref, e = unix.Mmap(fd, off-skew, int(total), prot, unix.MAP_SHARED|mmapFlags(cfg))
		if e == nil {
			if e = adviseMapping(fd, off-skew, ref, g, cfg, access); e != nil {
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
	// The mapping's own descriptor (see newMapping) closes through
	// internal/lock, which keeps it open instead while this process holds
	// classic fcntl locks on the object.
	m, err := o.newMapping(ref, skew, off, length, access)
	if err != nil {
		return nil, err
	}
	return keepDroppedOwner(m), nil
}

// The Unix systems' parts of object_sys.go.
const (
	mapOp     = "mmap"
	dupOp     = "dup"
	emptyHint = ": Truncate it first"
)

// dupRaw returns a close-on-exec duplicate of the descriptor fd.
func dupRaw(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// fileControl runs fn with f's descriptor.
func fileControl(f *os.File, fn func(fd int)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(u uintptr) { fn(int(u)) })
}

// ownFile returns an Object that owns f, whose descriptor is fd.
func ownFile(f *os.File, fd int, strategy string, readOnly bool) *Object {
	return collectFile(&Object{h: newFileHandle(f, fd), strategy: strategy, readOnly: readOnly})
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
	return ownFile(f, int(f.Fd()), strategy, false)
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
