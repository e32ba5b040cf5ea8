package shm

import (
	"os"
	"unsafe"

	"github.com/shmkit/shm/internal/osrev"
	"golang.org/x/sys/unix"
)

// memfd_create on NetBSD (sys/kern/sys_memfd.c; 501 in
// sys/kern/syscalls.master; flags in sys/sys/mman.h). Not in x/sys.
const (
	sysMemfdCreateNetBSD = 501
	mfdCloexecNetBSD     = 0x1
	mfdAllowSealNetBSD   = 0x2
)

// createAnon uses memfd_create where kern.osrevision says the kernel has
// it (NetBSD 11 and later): calling it on an older kernel would be
// answered with SIGSYS, which kills the process. Elsewhere, or when the
// revision cannot be read, the object is a random name in /var/shm,
// unlinked at once (which needs the /var/shm tmpfs).
func createAnon(size int64) (*Object, error) {
	if rev, err := osrev.NetBSDHost(); err != nil || !osrev.NetBSD(rev).MemfdCreate {
		return createAnonFile(size)
	}
	name := []byte("shm\x00")
	fd, _, e := unix.Syscall(sysMemfdCreateNetBSD, uintptr(unsafe.Pointer(&name[0])), mfdCloexecNetBSD|mfdAllowSealNetBSD, 0)
	if e != 0 {
		return nil, os.NewSyscallError("memfd_create", e)
	}
	// A memfd's fstat reports no file type and the effective user as
	// owner, mode S_IREAD|S_IWRITE: nothing to fchmod.
	if err := ignoringEINTR(func() error { return unix.Ftruncate(int(fd), size) }); err != nil {
		unix.Close(int(fd))
		return nil, os.NewSyscallError("ftruncate", err)
	}
	return newRawObject(int(fd), "memfd:shm", "memfd"), nil
}
