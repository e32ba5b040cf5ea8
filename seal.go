package shm

import "strings"

// A Seal is a set of restrictions that can be added to an object and
// never removed (Linux memfd and FreeBSD shm objects). Seals let a
// receiver trust an object it did not make: after SealShrink no peer can
// make its mappings fault; after SealWrite nobody can change it.
type Seal uint32

const (
	// SealSeal forbids adding further seals.
	SealSeal Seal = 1 << iota
	// SealShrink forbids making the object smaller.
	SealShrink
	// SealGrow forbids making the object larger.
	SealGrow
	// SealWrite forbids every write, through write(2) or any mapping. It
	// fails while a writable shared mapping exists.
	SealWrite
	// SealFutureWrite forbids new writable mappings and writes while
	// letting existing writable mappings go on (Linux 5.1+ only).
	SealFutureWrite
)

func (s Seal) String() string {
	if s == 0 {
		return "none"
	}
	var parts []string
	for _, n := range []struct {
		s    Seal
		name string
	}{{SealSeal, "seal"}, {SealShrink, "shrink"}, {SealGrow, "grow"}, {SealWrite, "write"}, {SealFutureWrite, "future-write"}} {
		if s&n.s != 0 {
			parts = append(parts, n.name)
			s &^= n.s
		}
	}
	if s != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "|")
}
