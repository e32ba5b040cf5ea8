package shm

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/lock"
)

// Retiring a record: zeroing its bytes and moving the head past it, which
// gives its room back to the senders.
//
// The receiver does not retire the message it returns before it returns.
// Zeroing takes the record's cache lines back from the sender that wrote
// them, and on x86, where stores leave the core in program order, whatever
// the caller writes next (the answer of a request-response exchange) would
// wait behind those stores: at far vCPU placement a third of a round trip.
// The receiver publishes instead how far it has consumed (the next word,
// on the head's line) and retires the record at the start of its next
// call, once its caller has moved on.
//
// Until then the record's room is not free. So that receiving a message
// still frees its room as far as senders can tell, a sender short of room
// retires the record itself. Two parties must never zero at once: a
// zeroing store that lands after the head has moved would land on the next
// lap's data. Whoever retires first takes the retire word with its owner
// token (compare-and-swap from 0) and releases it after moving the head;
// the holder's death is found with the liveness probe, and the next party
// takes the word over and zeroes again (the dead party's stores are all
// done). A sender that cannot take the word leaves the record to whoever
// holds it.
//
// Outside the retire word only the receiver moves the head (padding,
// records of dead senders), and only when nothing is pending (it retires
// first). A sender reads next before head: a head it then reads that lies
// before next is the start of the pending record, because the receiver
// stores the head it reached before it publishes the next position.

// retireSpins is how many times a party that finds the retire word held
// yields before it probes the holder.
const retireSpins = 64

// retireStep is how long a receiver sleeps between looks at a retire word
// that a live party holds for long (a stopped process, or a hostile one).
const retireStep = time.Millisecond

// ringRetireHook, when set (by tests only), runs in a sender's retire
// while it holds the retire word, before it zeroes.
var ringRetireHook func()

// consumed ends the receiver's use of the size-byte record at its
// position: it moves past it and publishes so, and leaves the record to be
// retired at the next call, or retires it now if a sender sleeps for room.
// When the next record's header is written already the caller is
// streaming, not waiting for an answer: the record is retired at once, as
// that costs fewer atomic operations (nothing is pending, so no sender
// retires and the retire word is not needed).
func (r ringMem) consumed(size uint64) {
	if atomic.LoadUint64(r.hdr(r.head+size)) != 0 {
		r.consume(r.head, size)
		return
	}
	r.head += size
	r.pending += size
	atomic.StoreUint64(r.u64(ringOffNext), r.head)
	// A sender that sleeps set its bit before it last looked at next: if
	// it saw next, it retires the record itself or found the word held by
	// someone who does.
	if atomic.LoadUint32(r.u32(ringOffTxWake))&1 != 0 {
		r.retire(context.Background(), "ring retire", false)
	}
}

// retire zeroes the bytes the receiver has consumed and not yet retired
// and moves the head to its position, unless a sender did so first. ok is
// false when wait is not set and another party holds the retire word.
func (r ringMem) retire(ctx context.Context, op string, wait bool) (ok bool, err error) {
	if r.pending == 0 {
		return true, nil
	}
	if ok, err := r.takeRetire(ctx, op, wait); !ok || err != nil {
		return false, err
	}
	defer atomic.StoreUint32(r.u32(ringOffRetire), 0)
	start := r.head - r.pending
	switch h := atomic.LoadUint64(r.u64(ringOffHead)); h {
	case r.head:
		// A sender retired it.
	case start:
		idx := start & r.mask
		if idx+r.pending > r.cap {
			return false, r.corrupt(op, "consumed bytes [%d, %d) wrap", start, r.head)
		}
		clear(r.data()[idx : idx+r.pending])
		atomic.StoreUint64(r.u64(ringOffHead), r.head)
	default:
		return false, r.corrupt(op, "head %d while the receiver has consumed [%d, %d)", h, start, r.head)
	}
	r.pending = 0
	r.wakeSenders()
	return true, nil
}

// takeRetire takes the retire word for the receiver. It waits for a live
// holder (until ctx ends or the handle closes) if wait is set, and gives
// up after retireSpins yields and a probe otherwise; a dead holder's word
// is taken over.
func (r ringMem) takeRetire(ctx context.Context, op string, wait bool) (bool, error) {
	w := r.u32(ringOffRetire)
	var step *time.Timer
	for i := 0; ; i++ {
		v := atomic.LoadUint32(w)
		if v == 0 {
			if atomic.CompareAndSwapUint32(w, 0, r.token) {
				return true, nil
			}
			continue
		}
		if v > lock.MaxToken {
			return false, r.corrupt(op, "retire word %#x", v)
		}
		if i < retireSpins {
			runtime.Gosched()
			continue
		}
		if v != r.token && !r.alive(v) {
			if atomic.CompareAndSwapUint32(w, v, r.token) {
				return true, nil
			}
			continue
		}
		if !wait {
			return false, nil
		}
		if step == nil {
			step = time.NewTimer(retireStep)
			defer step.Stop()
		} else {
			step.Reset(retireStep)
		}
		select {
		case <-ctx.Done():
			return false, r.err(op, ctx.Err())
		case <-r.done:
			return false, r.err(op, ErrRingClosed)
		case <-step.C:
		}
	}
}

// retireForSender retires the receiver's consumed bytes for a sender
// short of room. It reports whether the head may have moved (look again);
// false when nothing is pending or another party holds the retire word.
func (r ringMem) retireForSender(op string) (bool, error) {
	nw, hw := r.u64(ringOffNext), r.u64(ringOffHead)
	if atomic.LoadUint64(nw) <= atomic.LoadUint64(hw) {
		return false, nil
	}
	w := r.u32(ringOffRetire)
	if !atomic.CompareAndSwapUint32(w, 0, r.token) {
		return false, nil // its holder retires them
	}
	defer atomic.StoreUint32(w, 0)
	if ringRetireHook != nil {
		ringRetireHook()
	}
	n := atomic.LoadUint64(nw) // before the head (see above)
	h := atomic.LoadUint64(hw)
	if n <= h {
		return true, nil // retired meanwhile
	}
	t := atomic.LoadUint64(r.u64(ringOffTail))
	idx := h & r.mask
	if n%8 != 0 || h%8 != 0 || n > t || n-h > r.cap || idx+(n-h) > r.cap {
		return false, r.corrupt(op, "consumed up to %d with head %d, tail %d, capacity %d", n, h, t, r.cap)
	}
	clear(r.data()[idx : idx+(n-h)])
	atomic.StoreUint64(hw, n)
	if tw := r.u32(ringOffTxWake); atomic.LoadUint32(tw)&1 != 0 {
		r.wake(tw, false) // other senders sleeping for room
	}
	return true, nil
}

// adoptConsumed takes over what a previous receiver consumed without
// retiring (the next word past the head h, tail t): the new receiver
// starts after it and retires it at its first call.
func (r ringMem) adoptConsumed(op string, h, t uint64) error {
	r.head, r.pending = h, 0
	n := atomic.LoadUint64(r.u64(ringOffNext))
	if n <= h {
		return nil // retired, or never used
	}
	if n%8 != 0 || n > t || n-h > r.cap || h&r.mask+(n-h) > r.cap {
		return r.corrupt(op, "consumed up to %d with head %d, tail %d, capacity %d", n, h, t, r.cap)
	}
	r.head, r.pending = n, n-h
	return nil
}
