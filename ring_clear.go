package shm

import "sync/atomic"

// Clearing the stamps of retired records.
//
// Nothing needs clearing: a record's stamp names its position, so what
// an earlier lap left never counts (ring_layout.go). But where the
// receiver leaves the lines of small records as it read them, shared by
// the two CPUs, the sender's next lap over them ran slower than when the
// receiver wrote them: `shm bench`'s 64-byte stream took 60-65 ns a
// message with nothing written, 51-54 ns with every consumed byte zeroed
// (the layout before stamps), and 36-37 ns when the receiver's retire
// clears the stamp of each record it retires (BENCHMARKS.md §7,
// "Clearing the stamps"). A stamp is one word on its record's first
// line, so large records cost nothing: the 64 KiB stream with a
// zero-copy receive, which zeroing had held to a third of its speed, did
// not move.
//
// Only the receiver's own retire clears, while it holds the retire word:
// between the head and its position no sender writes (that room is not
// free yet), and the head's store, a release, comes after the clearing
// stores. It is a hint and nothing relies on it, so the walk stops at
// anything it does not expect (a record whose header was never written,
// a hostile size) and after ringClearMax records.

// ringClearMax bounds the records one retire walks: a batch of
// ringRetireBatch bytes holds at most this many.
const ringClearMax = ringRetireBatch / recAlign

// clearStamps clears the stamps of the records in [from, to), positions
// of record boundaries, walking their headers from from.
func (r ringMem) clearStamps(from, to uint64) {
	for p, k := from, 0; p < to && k < ringClearMax; k++ {
		if !r.written(p) {
			return
		}
		w := atomic.LoadUint64(r.hdr(p))
		size := recordSize(recLen(w))
		if w&recPadding != 0 {
			size = recLen(w)
		}
		if size == 0 || size%recAlign != 0 || size > to-p {
			return
		}
		*r.stamp(p) = 0
		p += size
	}
}
