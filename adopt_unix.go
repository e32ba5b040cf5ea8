//go:build unix

package shm

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// A memoryObjectRule says how this OS's shared-memory objects look through
// their descriptor (see memoryObject in the per-OS adopt files).
type memoryObjectRule struct {
	types []uint32           // the st_mode file types its objects report
	note  string             // added to the error for a descriptor of another type
	check func(fd int) error // what the type cannot tell (nil: nothing), as an error wrapping ErrNotMemory
}

// isMemoryObject reports, as an error wrapping ErrNotMemory, whether fd is
// not a shared-memory object by this OS's rule. The descriptor comes from
// another process or the caller; nothing about it is trusted before this.
func isMemoryObject(fd int) error {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return fmt.Errorf("fstat: %w", err)
	}
	mode := uint32(st.Mode)
	if !slices.Contains(memoryObject.types, mode&unix.S_IFMT) {
		return fmt.Errorf("%w: descriptor is a %s%s", ErrNotMemory, fileType(mode), memoryObject.note)
	}
	if memoryObject.check != nil {
		return memoryObject.check(fd)
	}
	return nil
}
