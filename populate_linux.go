package shm

import (
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

// adviseMapping gives the advice cfg asks for on ref, a new mapping of
// fd at offset off: MADV_HUGEPAGE first, so that populating faults in huge pages, then
// MADV_POPULATE_WRITE or _READ. On a kernel without the latter it maps
// the range again with MAP_POPULATE (over the same address range, so
// nothing else can take it).
func adviseMapping(fd int, off int64, ref []byte, cfg mapConfig, access Access) error {
	if cfg.huge {
		// Advice only: EINVAL is a kernel without transparent huge pages
		// (or a hugetlb mapping, huge already).
		_ = unix.Madvise(ref, unix.MADV_HUGEPAGE)
	}
	if !cfg.populate || !usePopulateMadvise() {
		return nil
	}
	advice, name := unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"
	if access != ReadWrite {
		advice, name = unix.MADV_POPULATE_READ, "MADV_POPULATE_READ"
	}
	err := ignoringEINTR(func() error { return unix.Madvise(ref, advice) })
	switch err {
	case nil:
		return nil
	case unix.EINVAL:
		// Before Linux 5.14. Nothing was populated: fault the range in
		// with MAP_POPULATE, in place, as later mappings will.
		madvPopulateMissing.Store(true)
		return remapPopulate(fd, off, ref, access)
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
