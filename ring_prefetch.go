package shm

import (
	"unsafe"

	"github.com/shmkit/shm/internal/prefetch"
)

// Prefetching a sender's lines.
//
// A message goes into lines the receiver held last: it read the previous
// lap's records there. Each store of
// the sender waits for its line to come from the receiver's CPU, and the
// locked instructions of the next send (the gate, the tail's
// compare-and-swap) wait for those stores. So a stream of small messages
// moves one line transfer at a time.
//
// A sender that finds its new record right after its last one (no other
// sender came between: it streams alone) asks for the line
// ringPrefetchAhead bytes past the record's end, for writing, before it
// copies (internal/prefetch; amd64 only). That line's transfer then runs
// while this and the next few messages are written, and the message that
// lands there finds its line at hand. Not when another sender came
// between: its next claim is then likely to be that line, and taking the
// line from a sender that writes it would cost both. Not when the line
// may still hold records the receiver has not consumed (the ring is
// within that distance of full, by the head as last read): taking it
// would make the receiver fetch it again.
//
// Measured (BENCHMARKS.md §7, "Prefetching the sender's lines"): on a
// host with near vCPU placement the 64-byte stream of `shm bench` went
// from 12.3-12.7 to 21.5-22.0 M msg/s; on a slower one, `go test`'s
// 64-byte stream rose by 8-14% and `shm bench`'s 1 KiB one by about a
// tenth. Round trips did not move. Prefetching 128 to 512 bytes ahead
// gained alike, 1 KiB or more nothing; prefetching every line of the
// next message's room (up to 4 KiB) gained nothing more, at 64 bytes or
// at 1 KiB.

// ringPrefetchAhead is how far past the end of its record a streaming
// sender prefetches: four lines, three to four 64-byte messages.
const ringPrefetchAhead = 256

// ringPrefetchHook, when set (by tests only), gets the position of each
// line a sender prefetches.
var ringPrefetchHook func(pos uint64)

// prefetchAfter prefetches for writing the line ringPrefetchAhead bytes
// past end, the end of the record the sender claimed at pos, if the
// sender's last record ended at pos and the line lies in room that no
// unconsumed record may hold. It records end for the next send.
func (r ringMem) prefetchAfter(pos, end uint64) {
	last := r.sendEnd
	r.sendEnd = end
	p := end + ringPrefetchAhead
	if pos != last || p+touchLine-r.cachedHead > r.cap {
		return
	}
	if ringPrefetchHook != nil {
		ringPrefetchHook(p)
	}
	prefetch.ForWrite(unsafe.Pointer(r.hdr(p)))
}
