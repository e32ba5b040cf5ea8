package shm

import (
	"fmt"

	"github.com/shmkit/shm/internal/kern"
	"golang.org/x/sys/unix"
)

// fGetSeals is FreeBSD's F_GET_SEALS, which x/sys defines for riscv64 only.
const fGetSeals = kern.FGetSeals

// isMemoryObject reports, as an error wrapping ErrNotMemory, whether fd is
// not a shared-memory object. FreeBSD shm objects are regular files in
// fstat but live outside the filesystem; only they answer F_GET_SEALS.
func isMemoryObject(fd int) error {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%w: descriptor is a %s", ErrNotMemory, fileType(uint32(st.Mode)))
	}
	if _, err := unix.FcntlInt(uintptr(fd), fGetSeals, 0); err != nil {
		return fmt.Errorf("%w: a regular file, not a shm object (F_GET_SEALS: %v)", ErrNotMemory, err)
	}
	return nil
}
