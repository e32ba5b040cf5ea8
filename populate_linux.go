package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// populateMmap, set by a test binary (export_linux_test.go), forces the
// MAP_POPULATE route of [Populate], the one kernels before 5.14 get, so
// that the suite runs it here.
var populateMmap bool

// madvPopulateMissing records that the kernel rejected MADV_POPULATE_*
// (before Linux 5.14), so later mappings use MAP_POPULATE.
var madvPopulateMissing atomic.Bool

// usePopulateMadvise reports whether Populate goes through madvise.
func usePopulateMadvise() bool {
	return !madvPopulateMissing.Load() && !populateMmap
}

// mmapFlags returns the mmap flags cfg adds to MAP_SHARED.
func mmapFlags(cfg mapConfig) int {
	if cfg.populate && !usePopulateMadvise() {
		return unix.MAP_POPULATE
	}
	return 0
}

// errNoMadvPopulate is what madvisePopulate returns on a kernel without
// MADV_POPULATE_* (before Linux 5.14).
var errNoMadvPopulate = errors.New("madvise(MADV_POPULATE_*) not supported")

// adviseMapping gives the advice cfg asks for on ref, a new mapping of fd
// at offset off in pages of g bytes: MADV_HUGEPAGE first, so that
// populating faults in huge pages, then for [Populate] the prefault of
// every chunk (MADV_POPULATE_WRITE or _READ) and its pre-touch (see
// populate). On a kernel without MADV_POPULATE_* it maps the range again
// with MAP_POPULATE (over the same address range, so nothing else can
// take it) and touches it.
func adviseMapping(fd int, off int64, ref []byte, g int64, cfg mapConfig, access Access) error {
	if cfg.huge {
		// Advice only: EINVAL is a kernel without transparent huge pages
		// (or a hugetlb mapping, huge already).
		_ = unix.Madvise(ref, unix.MADV_HUGEPAGE)
	}
	if !cfg.populate {
		return nil
	}
	if !usePopulateMadvise() {
		// mmap(MAP_POPULATE) did the kernel's part.
		return populate(ref, g, access, nil)
	}
	err := populate(ref, g, access, func(b []byte) error { return madvisePopulate(b, access) })
	if !errors.Is(err, errNoMadvPopulate) {
		return err
	}
	// Before Linux 5.14: every chunk failed first thing, nothing was
	// populated. Fault the range in with MAP_POPULATE, in place, as later
	// mappings will, then touch it.
	madvPopulateMissing.Store(true)
	if err := remapPopulate(fd, off, ref, access); err != nil {
		return err
	}
	return populate(ref, g, access, nil)
}

// madvisePopulate prefaults b, part of a new mapping, with
// MADV_POPULATE_WRITE (ReadWrite) or MADV_POPULATE_READ.
func madvisePopulate(b []byte, access Access) error {
	advice, name := unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"
	if access != ReadWrite {
		advice, name = unix.MADV_POPULATE_READ, "MADV_POPULATE_READ"
	}
	err := ignoringEINTR(func() error { return unix.Madvise(b, advice) })
	switch err {
	case nil:
		return nil
	case unix.EINVAL:
		return errNoMadvPopulate
	case unix.EFAULT:
		return fmt.Errorf("madvise(%s): a page could not be allocated (the filesystem behind the object is full, no free huge page is left, or the object shrank): %w", name, err)
	case unix.ENOMEM:
		return fmt.Errorf("madvise(%s): out of memory: %w", name, err)
	}
	return os.NewSyscallError("madvise("+name+")", err)
}

// remapPopulate maps fd at off again over ref, with
// MAP_FIXED|MAP_POPULATE.
func remapPopulate(fd int, off int64, ref []byte, access Access) error {
	prot := unix.PROT_READ
	if access == ReadWrite {
		prot |= unix.PROT_WRITE
	}
	_, err := unix.MmapPtr(fd, off, unsafe.Pointer(unsafe.SliceData(ref)), uintptr(len(ref)), prot, unix.MAP_SHARED|unix.MAP_FIXED|unix.MAP_POPULATE)
	if err != nil {
		return os.NewSyscallError("mmap(MAP_POPULATE)", err)
	}
	return nil
}

// granule returns the alignment of mapping offsets of fd: the huge page
// size for a hugetlbfs object, else the page size.
func granule(fd int) int64 {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err == nil && uint32(st.Type) == unix.HUGETLBFS_MAGIC && st.Bsize > 0 {
		return int64(st.Bsize)
	}
	return int64(os.Getpagesize())
}
