package shm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// isMemoryObject reports, as an error wrapping ErrNotMemory, whether fd is
// not a shared-memory object. darwin's POSIX shm objects report only
// permission bits in st_mode, no file type.
func isMemoryObject(fd int) error {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != 0 {
		return fmt.Errorf("%w: descriptor is a %s, not a POSIX shm object", ErrNotMemory, fileType(uint32(st.Mode)))
	}
	return nil
}
