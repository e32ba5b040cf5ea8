//go:build openbsd || netbsd || dragonfly || solaris

package shm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// isMemoryObject reports, as an error wrapping ErrNotMemory, whether fd is
// not a shared-memory object. On these systems shm_open makes plain
// regular files (NetBSD's memfd reports no file type at all), so any
// regular file is accepted.
func isMemoryObject(fd int) error {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return fmt.Errorf("fstat: %w", err)
	}
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFREG, 0:
		return nil
	}
	return fmt.Errorf("%w: descriptor is a %s", ErrNotMemory, fileType(uint32(st.Mode)))
}
