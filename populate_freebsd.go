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

// adviseMapping touches every page of ref, a new mapping in pages of g
// bytes, for [Populate] (see populate): MAP_PREFAULT_READ mapped only the
// pages already in memory. Superpages are automatic
// (vm.pmap.pg_ps_enabled), so [HugePages] asks for nothing.
func adviseMapping(_ int, _ int64, ref []byte, g int64, cfg mapConfig, access Access) error {
	if !cfg.populate {
		return nil
	}
	return populate(ref, g, access, nil)
}

// granule returns the alignment of mapping offsets of fd: the large page
// size of a SHM_LARGEPAGE object, else the page size.
func granule(fd int) int64 {
	if ps, ok := largePageSize(fd); ok {
		return ps
	}
	return int64(os.Getpagesize())
}
