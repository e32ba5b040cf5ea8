//go:build unix && !linux && !freebsd

package shm

import "os"

// mmapFlags returns the mmap flags cfg adds to MAP_SHARED: none, as this
// OS has no way to ask the kernel to prefault a shared mapping (see
// [Populate]).
func mmapFlags(mapConfig) int { return 0 }

// adviseMapping touches every page of ref, a new mapping in pages of g
// bytes, for [Populate] (see populate), which is all this OS allows;
// huge pages cannot be asked for (see [HugePages]).
func adviseMapping(_ int, _ int64, ref []byte, g int64, cfg mapConfig, access Access) error {
	if !cfg.populate {
		return nil
	}
	return populate(ref, g, access, nil)
}

// granule is the alignment of mapping offsets: the page size.
func granule(int) int64 { return int64(os.Getpagesize()) }
