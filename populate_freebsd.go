package shm

import (
	"os"

	"golang.org/x/sys/unix"
)

// mmapFlags returns the mmap flags cfg adds to MAP_SHARED:
// MAP_PREFAULT_READ for [Populate], which maps the object's pages that
// are already in memory (it allocates none).
func mmapFlags(cfg mapConfig) int {
	if cfg.populate {
		return unix.MAP_PREFAULT_READ
	}
	return 0
}

// adviseMapping has nothing to add after mmap: superpages are automatic
// (vm.pmap.pg_ps_enabled), so [HugePages] asks for nothing.
func adviseMapping(int, int64, []byte, mapConfig, Access) error { return nil }

// granule returns the alignment of mapping offsets of fd: the large page
// size of a SHM_LARGEPAGE object, else the page size.
func granule(fd int) int64 {
	if ps, ok := largePageSize(fd); ok {
		return ps
	}
	return int64(os.Getpagesize())
}
