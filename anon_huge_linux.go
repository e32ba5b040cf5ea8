package shm

import (
	"fmt"
	"math/bits"
	"os"
	"strings"

	"github.com/shmkit/shm/internal/doctor"
	"golang.org/x/sys/unix"
)

// hostRoot is where the huge-page files are read: "/" but in tests.
var hostRoot = "/"

// createAnonHuge makes a hugetlb memfd of size bytes with pages of
// cfg.hugePage bytes (0: the default size) and allocates all of it, so
// that a host without enough free pages fails here, with an error that
// says what to change, and not with SIGBUS at the first touch.
// SHMDEBUG's anon key does not apply: there is no other route to hugetlb pages without a
// mounted hugetlbfs.
func createAnonHuge(size int64, cfg anonConfig) (*Object, error) {
	if cfg.hugeInvalid != nil {
		return nil, cfg.hugeInvalid
	}
	if err := checkHugeSize(size, cfg.hugePage); err != nil {
		return nil, err
	}
	def, defErr := doctor.ReadDefaultHugePageSize(hostRoot)
	page := uint64(cfg.hugePage)
	if page == 0 {
		if defErr != nil {
			return nil, fmt.Errorf("no default huge page size: %w (%w)", ErrNoHugePages, defErr)
		}
		page = def
		if err := checkHugeSize(size, int64(page)); err != nil {
			return nil, err
		}
	}
	pools, err := doctor.ReadHugePools(hostRoot)
	if err != nil {
		return nil, fmt.Errorf("reading the hugetlb pools: %w", err)
	}
	var sizes []string
	found := false
	for _, p := range pools {
		sizes = append(sizes, doctor.FormatBytes(p.PageSize))
		found = found || p.PageSize == page
	}
	if !found {
		have := "none"
		if len(sizes) > 0 {
			have = strings.Join(sizes, ", ")
		}
		return nil, fmt.Errorf("this host has no %s huge pages (sizes here: %s): %w", doctor.FormatBytes(page), have, ErrNoHugePages)
	}
	shift := bits.TrailingZeros64(page)
	if shift > unix.MFD_HUGE_MASK {
		return nil, fmt.Errorf("huge page size %d is too large for memfd_create", page)
	}
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_HUGETLB | shift<<unix.MFD_HUGE_SHIFT
	var fd int
	if !memfdNoExecUnsupported.Load() {
		fd, err = unix.MemfdCreate("shm", flags|unix.MFD_NOEXEC_SEAL)
		if err == unix.EINVAL {
			memfdNoExecUnsupported.Store(true)
		}
	}
	if memfdNoExecUnsupported.Load() {
		fd, err = unix.MemfdCreate("shm", flags)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create(MFD_HUGETLB)", err)
	}
	if err := unix.Fchmod(fd, 0o600); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fchmod", err)
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("ftruncate", err)
	}
	if size > 0 {
		err := ignoringEINTR(func() error { return unix.Fallocate(fd, 0, 0, size) })
		if err != nil {
			unix.Close(fd)
			if err == unix.ENOSPC || err == unix.ENOMEM {
				return nil, hugeShortage(size, page, def, err)
			}
			return nil, os.NewSyscallError("fallocate", err)
		}
	}
	return newRawObject(fd, "memfd:shm (hugetlb)", "memfd-hugetlb"), nil
}

// hugeShortage explains a failed allocation of size bytes of page-byte
// huge pages: how many were needed and free, and what to change.
func hugeShortage(size int64, page, def uint64, errno error) error {
	need := (uint64(size) + page - 1) / page
	var b strings.Builder
	fmt.Fprintf(&b, "%d huge pages of %s needed", need, doctor.FormatBytes(page))
	var inUse uint64
	enough := false
	if pools, err := doctor.ReadHugePools(hostRoot); err == nil {
		for _, p := range pools {
			if p.PageSize == page {
				fmt.Fprintf(&b, ", %d free of %d reserved", p.Available(), p.Total)
				inUse = p.Total - min(p.Total, p.Available())
				enough = p.Available() >= need
			}
		}
	}
	if enough {
		// Free now, yet refused: another process held them for a moment,
		// or a cgroup (hugetlb.*.max, or memory.max with hugetlb
		// accounting) refused the charge.
		b.WriteString(" (enough are free now: they were taken by another process meanwhile, or a cgroup limit refused them: see hugetlb.<size>.max and memory.max of this process's cgroup)")
	} else {
		fmt.Fprintf(&b, "; reserve them with %s", doctor.HugePoolRemedy(page, def, inUse+need))
	}
	if mode, err := doctor.ReadShmemEnabled(hostRoot); err == nil {
		if doctor.ShmemFollowsAdvice(mode) {
			b.WriteString(", or use transparent huge pages: a CreateAnon without HugePageSize mapped with shm.HugePages()")
		} else {
			fmt.Fprintf(&b, ", or use transparent huge pages (a CreateAnon without HugePageSize mapped with shm.HugePages()) after `echo advise > %s` (it is %s)", doctor.ShmemEnabledPath, mode)
		}
	}
	return fmt.Errorf("%s: %w (fallocate: %w)", b.String(), ErrNoHugePages, errno)
}
