package shm

import (
	"sync/atomic"
	"unsafe"
)

// touchLine is the cache line size touchLineAfter assumes: 64 bytes, the
// line of amd64, 386 and most arm64, riscv64 and loong64 cores. Where
// lines are longer (ppc64, s390x, some arm64) the word it loads may sit
// on the header's own line, and the load merely repeats one.
const touchLine = 64

// touchLineAfter loads the first word of the cache line after the one
// that holds the header at position h, and drops it (it wraps at the end
// of the data area, as positions do).
//
// A spinning receiver calls it at each turn, beside its load of the
// header it waits on. A small message spills from the header's line into
// the next one. A receiver that asks for that line only once it has seen
// the header committed waits for two lines to come from the sender's
// CPU, one after the other; between CPUs that share no cache, each is
// about half of the round trip. Loaded at each turn, the two lines
// travel together: the sender stores the payload before the header, so
// the turn that sees the header committed also brings the payload's
// second line, and the copy finds it in the cache. The sender's stores
// now take that line back from the receiver, as they take the header's;
// the stream rows measured beside the change showed no cost from it.
// BENCHMARKS.md §7, "Spinning on two lines", has the figures (the
// 64-byte round trip between far CPUs, 1.02-1.10 µs before, 0.79-0.88 µs
// after).
func (r ringMem) touchLineAfter(h uint64) { _ = atomic.LoadUint64(r.lineAfter(h)) }

// lineAfter returns the word touchLineAfter loads for the header at h.
func (r ringMem) lineAfter(h uint64) *uint64 {
	at := uint64(uintptr(unsafe.Pointer(r.hdr(h))))
	return r.hdr(h + touchLine - at%touchLine)
}
