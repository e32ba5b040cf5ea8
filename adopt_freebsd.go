package shm

import (
	"fmt"

	"github.com/shmkit/shm/internal/kern"
	"golang.org/x/sys/unix"
)

// fGetSeals is FreeBSD's F_GET_SEALS, which x/sys defines for riscv64 only.
const fGetSeals = kern.FGetSeals

// FreeBSD shm objects are regular files in fstat but live outside the
// filesystem; only they answer F_GET_SEALS.
var memoryObject = memoryObjectRule{types: []uint32{unix.S_IFREG}, check: answersGetSeals}

func answersGetSeals(fd int) error {
	if _, err := unix.FcntlInt(uintptr(fd), fGetSeals, 0); err != nil {
		return fmt.Errorf("%w: a regular file, not a shm object (F_GET_SEALS: %v)", ErrNotMemory, err)
	}
	return nil
}
