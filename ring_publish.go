package shm

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Publishing a record, and the receiver's grace before it sleeps.
//
// A sender publishes a record by storing its committed header, then loads
// the receiver's wake word and wakes the receiver only if it said it
// sleeps. A receiver about to sleep sets that bit, then looks at the ring
// once more. One of the two must see the other: the header store must
// be visible before the sender's load of the word.
//
// Everywhere but amd64 the header is stored with a sequentially
// consistent atomic (on arm64 a store-release that a load-acquire cannot
// pass), which guarantees it. On amd64 that store is an XCHG, a full
// barrier, and measured here it made the 64-byte stream three times
// slower (5.8-7.5 against 18.4-20.5 M msg/s at far vCPU placement,
// BENCHMARKS §7, "Publishing without a barrier"): the sender waited at
// each message for its stores to reach the receiver's core. So on amd64
// the header is a plain store (x86 keeps stores in order, so the payload
// is visible first).
//
// x86 may let the sender's next load, of the wake word, pass that store
// while the store still waits in the store buffer, so the sender may
// read the bit as clear although its header is not visible yet. Such a
// store becomes visible within the time the store buffer takes to drain,
// well under a microsecond and bounded by the hardware (the sender's
// next locked instruction, the compare-and-swap of its next send's gate
// or claim, waits for it; an interrupt drains it too). The receiver
// covers that window: when it has just set its bit (it was clear) and
// found nothing, it keeps looking at the record for ringPublishGrace
// before it enters the kernel. That costs at most the grace in CPU per
// sleep, and no wake-up. Commit's header is the same plain store, and the
// same grace covers it.
//
// The receiver publishes how far it has consumed (the next word,
// ring_retire.go) the same way, then loads the senders' wake word, and a
// sender short of room sets its bit and then reads the next word. So
// senders keep the same grace before they sleep for room. Stored with
// an XCHG at each message, the next word cost the receiver as much as
// the sender's barrier did (BENCHMARKS §7, "Both sides at once").

// publishGrace is how long a receiver or a sender on arch keeps looking
// at the ring after it has set its sleeps bit: on x86 (amd64, and 386,
// whose processes may share a ring with amd64 ones), where the other side
// publishes with a plain store, ringPublishGrace; elsewhere nothing.
func publishGrace(arch string) time.Duration {
	switch arch {
	case "amd64", "386":
		return ringPublishGrace
	}
	return 0
}

// ringPublishGrace exceeds by far the time an x86 store buffer takes to
// drain.
const ringPublishGrace = 10 * time.Microsecond

// ringGrace is this process's grace, for receivers and senders alike.
var ringGrace = publishGrace(runtime.GOARCH)

// storeInOrder stores v at p: on amd64 a plain store, which x86 (and the
// compiler) keep in program order behind the stores before it; elsewhere
// a sequentially consistent atomic store. On amd64 an atomic store is an
// XCHG, a full barrier on the per-message path. What keeps a later load
// from passing the plain store is the caller's:
//
//   - a record's committed header (the payload copied before it is
//     visible first): the receiver's grace, above;
//   - the receiver's next word: the senders' grace, above;
//   - a sender's intent (length, then position): the compare-and-swap of
//     the tail that follows, a locked instruction, which drains it; an
//     exclusive sender's tail store (ring_exclusive.go) follows it in
//     order, and nothing waits on the tail: the receiver waits on the
//     header that comes after it, with its grace.
//
// GOARCH is a constant: the branch not taken is compiled away.
func storeInOrder(p *uint64, v uint64) {
	if runtime.GOARCH == "amd64" {
		*p = v
		return
	}
	atomic.StoreUint64(p, v)
}
