//go:build unix && !linux && !freebsd

package shm

import "os"

// mmapFlags returns the mmap flags cfg adds to MAP_SHARED: none, as this
// OS has no way to prefault a shared mapping (see [Populate]).
func mmapFlags(mapConfig) int { return 0 }

// adviseMapping has no advice to give on this OS: neither prefaulting
// nor huge pages can be asked for (see [Populate] and [HugePages]).
func adviseMapping(int, int64, []byte, mapConfig, Access) error { return nil }

// granule is the alignment of mapping offsets: the page size.
func granule(int) int64 { return int64(os.Getpagesize()) }
