package shm

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"github.com/shmkit/shm/internal/kern"
	"golang.org/x/sys/unix"
)

// FreeBSD's large-page objects (sys/sys/mman.h, sys/sys/filio.h), as
// libc's shm_create_largepage(3) makes them.
const (
	shmLargePage          = 0x4        // SHM_LARGEPAGE, a shmflag of shm_open2
	shmLargePageAllocWait = 0          // SHM_LARGEPAGE_ALLOC_DEFAULT
	fiosShmLpgCnf         = 0x80306664 // FIOSSHMLPGCNF: _IOW('f', 100, struct shm_largepage_conf)
	fiogShmLpgCnf         = 0x40306665 // FIOGSHMLPGCNF: _IOR('f', 101, struct shm_largepage_conf)
)

// shmLargePageConf is struct shm_largepage_conf.
type shmLargePageConf struct {
	psind       int32
	allocPolicy int32
	pad         [10]int32
}

// pageSizes returns hw.pagesizes, the page sizes of this machine by index
// (psind); 0 entries are unused.
func pageSizes() ([]uint64, error) {
	b, err := unix.SysctlRaw("hw.pagesizes")
	if err != nil {
		return nil, os.NewSyscallError("sysctl hw.pagesizes", err)
	}
	w := int(unsafe.Sizeof(uintptr(0)))
	var out []uint64
	for i := 0; i+w <= len(b); i += w {
		if w == 8 {
			out = append(out, binary.NativeEndian.Uint64(b[i:]))
		} else {
			out = append(out, uint64(binary.NativeEndian.Uint32(b[i:])))
		}
	}
	return out, nil
}

// createAnonHuge makes a SHM_LARGEPAGE object with pages of cfg.hugePage
// bytes (0: the smallest large page), as shm_create_largepage does, and
// sets its size, which allocates the pages.
func createAnonHuge(size int64, cfg anonConfig) (*Object, error) {
	if cfg.hugeInvalid != nil {
		return nil, cfg.hugeInvalid
	}
	if err := checkHugeSize(size, cfg.hugePage); err != nil {
		return nil, err
	}
	sizes, err := pageSizes()
	if err != nil {
		return nil, err
	}
	psind := 0
	for i, s := range sizes {
		if i > 0 && s != 0 && (uint64(cfg.hugePage) == s || (cfg.hugePage == 0 && psind == 0)) {
			psind = i
			break
		}
	}
	if psind == 0 {
		return nil, fmt.Errorf("this machine has no %d-byte large pages (hw.pagesizes: %v): %w", cfg.hugePage, sizes, ErrNoHugePages)
	}
	page := int64(sizes[psind])
	if err := checkHugeSize(size, page); err != nil {
		return nil, err
	}
	fd, err := kern.ShmOpen2("", unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600, shmLargePage, "")
	if err == unix.ENOSYS || err == unix.EINVAL {
		return nil, errUnsupported("CreateAnon with HugePageSize (shm_open2 with SHM_LARGEPAGE, FreeBSD 13 and later)")
	}
	if err != nil {
		return nil, os.NewSyscallError("shm_open2(SHM_LARGEPAGE)", err)
	}
	conf := shmLargePageConf{psind: int32(psind), allocPolicy: shmLargePageAllocWait}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fiosShmLpgCnf, uintptr(unsafe.Pointer(&conf))); e != 0 {
		unix.Close(fd)
		return nil, os.NewSyscallError("ioctl(FIOSSHMLPGCNF)", e)
	}
	if size > 0 {
		if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
			unix.Close(fd)
			if err == unix.ENOMEM || err == unix.ENOSPC {
				return nil, fmt.Errorf("%d large pages of %d bytes could not be allocated (physical memory too fragmented or too small; try at boot, or smaller pages): %w (ftruncate: %w)", size/page, page, ErrNoHugePages, err)
			}
			return nil, os.NewSyscallError("ftruncate", err)
		}
	}
	return newRawObject(fd, "shm:anonymous (largepage)", "shm_open2-largepage"), nil
}

// largePageSize returns the page size of a SHM_LARGEPAGE object, and
// false for any other descriptor.
func largePageSize(fd int) (int64, bool) {
	var conf shmLargePageConf
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), fiogShmLpgCnf, uintptr(unsafe.Pointer(&conf))); e != 0 {
		return 0, false
	}
	sizes, err := pageSizes()
	if err != nil || conf.psind <= 0 || int(conf.psind) >= len(sizes) || sizes[conf.psind] == 0 {
		return 0, false
	}
	return int64(sizes[conf.psind]), true
}
