package shm

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/futex"
	"github.com/shmkit/shm/internal/lock"
	"github.com/shmkit/shm/internal/shmdebug"
)

// RingClaimOnly claims room for an n-byte message as Send does and stops
// there, as a sender killed between the claim and the header would.
// Tests only.
func RingClaimOnly(r *Ring, n int) error {
	v, err := r.enterSend(context.Background(), "test claim")
	if err != nil {
		return err
	}
	defer v.leaveSend()
	_, _, err = v.claimWait(context.Background(), "test claim", uint64(n), true)
	return err
}

// ForceFutexPoll makes this process's waits poll instead of sleeping in
// the kernel (as SHMDEBUG=futex=poll does), until restore is called.
// Tests only.
func ForceFutexPoll() (restore func()) {
	futex.ForceFallback(true)
	return func() {
		s, _ := shmdebug.Get()
		futex.ForceFallback(s.Futex == "poll")
	}
}

// SetRingIndicesHook makes f run between the loads of head and tail when
// a handle attaches (as a sender or receiver), until restore is called.
// Tests only; not safe while rings are in use.
func SetRingIndicesHook(f func()) (restore func()) {
	ringIndicesHook = f
	return func() { ringIndicesHook = nil }
}

// SetRingReclaimHook makes f run when a sender attaches, after head and
// tail are loaded and before dead senders' slots are looked at, until
// restore is called. Tests only; not safe while rings are in use.
func SetRingReclaimHook(f func()) (restore func()) {
	ringReclaimHook = f
	return func() { ringReclaimHook = nil }
}

// SetRingClaimHook makes f run when a sender has published its intent
// and not yet moved the tail, until restore is called. Tests only; not
// safe while rings are in use.
func SetRingClaimHook(f func()) (restore func()) {
	ringClaimHook = f
	return func() { ringClaimHook = nil }
}

// SetRingEOFHook makes f run when a receiver has found the ring empty and
// not yet looked whether every sender has gone, until restore is called.
// Tests only; not safe while rings are in use.
func SetRingEOFHook(f func()) (restore func()) {
	ringEOFHook = f
	return func() { ringEOFHook = nil }
}

// RingSenders is the number of sender slots of a ring. Tests only.
const RingSenders = ringSenders

// RingClosing reports whether Close has begun on r. Tests only.
func RingClosing(r *Ring) bool { return r.closed.Load() }

// RingRecordSize returns the bytes a message of n bytes takes in a
// ring's data area, header and alignment included. Tests only.
func RingRecordSize(n int) int { return int(recordSize(uint64(n))) }

// SetRingLeaveHook makes f run when a send that sent leaves the ring,
// after its last access to the memory and before it releases its gate.
// Tests only.
func SetRingLeaveHook(f func()) (restore func()) {
	ringLeaveHook = f
	return func() { ringLeaveHook = nil }
}

// SetRingFullSlice sets how long a sender waiting for room sleeps before
// it probes the receiver, until restore is called. Tests only; not safe
// while rings are in use.
func SetRingFullSlice(d time.Duration) (restore func()) {
	old := ringFullSlice
	ringFullSlice = d
	return func() { ringFullSlice = old }
}

// ringWord loads the 32-bit word at off in r's ring header (0 once the
// mapping is gone).
func ringWord(r *Ring, off uintptr) uint32 {
	p, ok := r.holdRing()
	if !ok {
		return 0
	}
	defer r.releaseRing()
	return atomic.LoadUint32(r.view(p).u32(off))
}

// RingSenderSleeps reports whether a sender sleeps for room on r's ring
// (the bit in the senders' wake word). Tests only.
func RingSenderSleeps(r *Ring) bool { return ringWord(r, ringOffTxWake)&1 != 0 }

// RingReceiverSleeps reports whether r's ring's receiver sleeps in the
// kernel (the bit in the receiver's wake word). Tests only.
func RingReceiverSleeps(r *Ring) bool { return ringWord(r, ringOffRxWake)&1 != 0 }

// SetRingLookHook makes f run before each look of a spinning ring wait,
// until restore is called. Tests only; not safe while rings are in use.
func SetRingLookHook(f func()) (restore func()) {
	ringLookHook = f
	return func() { ringLookHook = nil }
}

// RingPauses returns the shortest and the longest pause of a sender that
// spins for room. Tests only.
func RingPauses() (first, most time.Duration) { return ringPauseMin, ringPauseMax }

// RingReceiverWakes returns the sequence of r's ring's receiver wake word:
// it advances at every wake-up of a sleeping receiver (and every kick).
// Tests only.
func RingReceiverWakes(r *Ring) uint32 { return ringWord(r, ringOffRxWake) >> 1 }

// SetRingSpinHook makes f run whenever a waiting ring call starts to
// spin, until restore is called. Tests only; not safe while rings are in
// use.
func SetRingSpinHook(f func()) (restore func()) {
	ringSpinHook = f
	return func() { ringSpinHook = nil }
}

// RingRetireHolder returns the owner token in r's ring's retire word, 0
// when no party is retiring. Tests only.
func RingRetireHolder(r *Ring) uint32 { return ringWord(r, ringOffRetire) }

// RingPending reports whether r's ring's receiver has consumed bytes that
// are not yet retired (its next word lies past the head). Tests only.
func RingPending(r *Ring) bool {
	p, ok := r.holdRing()
	if !ok {
		return false
	}
	defer r.releaseRing()
	v := r.view(p)
	return atomic.LoadUint64(v.u64(ringOffNext)) > atomic.LoadUint64(v.u64(ringOffHead))
}

// SetRingRetireHook makes f run when a sender short of room holds the
// retire word and has not yet moved the head past the receiver's
// consumed record, until restore is called. Tests only; not safe while rings are in use.
func SetRingRetireHook(f func()) (restore func()) {
	ringRetireHook = f
	return func() { ringRetireHook = nil }
}

// RingPublishGrace is how long a receiver on arch keeps looking after it
// has set its sleeps bit. Tests only.
func RingPublishGrace(arch string) time.Duration { return publishGrace(arch) }

// RingRecvGrace is this process's receiver grace. Tests only.
func RingRecvGrace() time.Duration { return ringGrace }

// SetRingIdleSlice sets how long a receiver waiting on an empty ring
// sleeps before it probes the senders, until restore is called. Tests
// only; not safe while rings are in use.
func SetRingIdleSlice(d time.Duration) (restore func()) {
	old := ringIdleSlice
	ringIdleSlice = d
	return func() { ringIdleSlice = old }
}

// SetRingGraceHook makes f run when a waiting receive has set its sleeps
// bit and found nothing, before its grace, until restore is called. Tests
// only; not safe while rings are in use.
func SetRingGraceHook(f func()) (restore func()) {
	ringGraceHook = f
	return func() { ringGraceHook = nil }
}

// RingSendUnseen sends msg through r as Send does when the ring has room,
// but does not look at the receiver's wake word: as an x86 sender whose
// load of the word passed its header store. Tests only.
func RingSendUnseen(r *Ring, msg []byte) error {
	const op = "ring send"
	v, err := r.enterSend(context.Background(), op)
	if err != nil {
		return err
	}
	defer v.leaveSend()
	pos, ok, err := v.claimWait(context.Background(), op, uint64(len(msg)), false)
	if err != nil {
		return err
	}
	if !ok {
		return r.err(op, errors.New("no room"))
	}
	copy(v.data()[pos&r.mask+ringRecordHeader:], msg)
	v.putHeader(pos, recHeader(uint64(len(msg)), r.token, recCommitted))
	return nil
}

// RingReceiveUnseen receives the next message through r as TryReceive
// does and publishes that it consumed it, but does not look at the
// senders' wake word: as an x86 receiver whose load of the word passed
// its store of the next word. It returns the message. Tests only.
func RingReceiveUnseen(r *Ring) ([]byte, error) {
	const op = "ring receive"
	v, err := r.enterRecv(context.Background(), op)
	if err != nil {
		return nil, err
	}
	defer v.leaveRecv()
	msg, size, err := v.next(context.Background(), op, false)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, r.err(op, errors.New("no message"))
	}
	msg = bytes.Clone(msg)
	v.advance(size)
	return msg, nil
}

// SetRingReceiverHook makes f run when a sender looks for the ring's
// receiver, between its loads of the receiver-seen flag and of the
// receiver slot, until restore is called. Tests only.
func SetRingReceiverHook(f func()) (restore func()) {
	ringReceiverHook = f
	return func() { ringReceiverHook = nil }
}

// RingSpins reports whether waiting ring calls spin in this process (more
// than one CPU).
func RingSpins() bool { return ringSpinning }

// RingCanYield reports whether a ring's spin after a wake-up yields the
// CPU here: the system can yield, and ring waits sleep in the kernel
// (ring_yield.go).
func RingCanYield() bool { return futex.CanYield && futex.Sleeps() }

// SetRingYieldHook makes f run at each yield of a spin, until restore is
// called. Tests only.
func SetRingYieldHook(f func()) (restore func()) {
	ringYieldHook = f
	return func() { ringYieldHook = nil }
}

// SetRingYieldWindow sets how long after a wake-up a spin yields, until
// restore is called. Tests only.
func SetRingYieldWindow(d time.Duration) (restore func()) {
	old := ringYieldWindow
	ringYieldWindow = d
	return func() { ringYieldWindow = old }
}

// SetRingGoschedHook makes f run at each runtime.Gosched of a spin's time
// check (before it), until restore is called. Tests only.
func SetRingGoschedHook(f func()) (restore func()) {
	ringGosched = func() {
		f()
		runtime.Gosched()
	}
	return func() { ringGosched = runtime.Gosched }
}

// Offsets and flags of a ring's header, for tests that write hostile
// values into it. Tests only.
const (
	RingOffFlags         = ringOffFlags
	RingOffTail          = ringOffTail
	RingOffRxSlot        = ringOffRxSlot
	RingOffSenders       = ringOffSenders
	RingSlotSize         = ringSlotSize
	RingSlotIntentPos    = ringSlotIntentPos
	RingSlotIntentLen    = ringSlotIntentLen
	RingFlagSenderSeen   = flagSenderSeen
	RingFlagReceiverSeen = flagReceiverSeen
	RingImpossibleToken  = lock.MaxToken + 1
)
