package shm

import (
	"sync/atomic"

	"github.com/shmkit/shm/internal/lock"
)

// Retiring: moving the head past bytes the receiver has consumed, which
// gives their room back to the senders. Nothing needs clearing: a stale
// header left in the room does not match its new position's stamp
// (ring_layout.go); the receiver's retire clears the retired records'
// stamps all the same, for speed (ring_clear.go).
//
// The receiver publishes how far it has consumed at each message (the
// next word, on the head's line) and moves the head later, in bulk:
//
//   - at the start of its next call when nothing followed the message it
//     consumed last (it waits for an answer), or once ringRetireBatch
//     bytes are pending (it streams: three atomic operations per batch,
//     not per record);
//   - at the full look before it sleeps, and when it closes;
//   - and a sender short of room moves it itself, to the next word. So a
//     received message frees its room at once as far as senders can tell.
//
// Retiring once cleared the consumed bytes too, so that a header's zero
// word meant "not written yet"; that took every line the senders had
// written over to the receiver's CPU and back, and halved the zero-copy
// and 1 MiB streams (BENCHMARKS.md §7, "Stamped headers"). The rest
// stays, though nothing is zeroed now: a build whose receiver stored the
// head at every message, with no next or retire word, ran four senders
// into one receiver at 11 M msg/s against 18-19 M (its profile put 37%
// of the samples in the senders' claims, against 21%, and 8% in the
// receiver's wake-ups of them); the other rows moved by less than a
// tenth.
//
// The head never moves back: only the holder of the retire word moves
// it; it takes the word with its owner token (compare-and-swap from 0)
// and frees it after storing the head. A party that finds the word held
// leaves the work to its holder and does not wait for it; when probing
// (at the end of a sleep slice) it takes the word over from a dead
// holder. After moving the head, a retirer wakes senders asleep for
// room, as the receiver does after it consumes.

// ringRetireBatch is how many consumed bytes a streaming receiver leaves
// before it retires them (an eighth of the area in smaller rings).
const ringRetireBatch = 16 << 10

// ringRetireHook, when set (by tests only), runs in a sender's retire
// while it holds the retire word, before it moves the head.
var ringRetireHook func()

// advance moves the receiver past size consumed bytes (a message, a
// padding record, a dead sender's claim) and publishes so; the bytes are
// retired later. The store is in order, not a barrier (ring_publish.go):
// a sender asleep for room that the receiver's next load of the wake
// word misses keeps a grace, as receivers do for headers.
func (r ringMem) advance(size uint64) {
	r.head += size
	storeInOrder(r.u64(ringOffNext), r.head)
}

// consumed ends the receiver's use of the message record of size bytes
// at its position, and wakes a sender that sleeps for room (it retires
// the record itself).
func (r ringMem) consumed(size uint64) {
	r.quiet = !r.written(r.head + size)
	r.advance(size)
	// The wake word's bit, looked at here and not in the call: measured,
	// the call on this path cost the 64-byte round trip 10-15%.
	if atomic.LoadUint32(r.u32(ringOffTxWake))&1 != 0 {
		r.wakeSenders()
	}
}

// retireOwn retires what the receiver has consumed: everything if all is
// set or nothing followed the last message, otherwise only once a batch is
// pending. It leaves the work to a live holder of the retire word, and
// takes the word over from a dead one when probe is set.
func (r ringMem) retireOwn(op string, all, probe bool) error {
	if !r.retireDue(all) {
		return nil
	}
	return r.retireNow(op, probe)
}

// retireDue reports whether retireOwn has work. r.retired trails the head
// when a sender has retired since: the look costs no load, and an extra
// try finds the head moved. It inlines; the work does not.
func (r ringMem) retireDue(all bool) bool {
	return r.retired != r.head && (all || r.quiet || r.head-r.retired >= min(ringRetireBatch, r.cap/8))
}

// retireNow is retireOwn's work, when something is due: it clears the
// stamps of the records it retires (ring_clear.go), moves the head to the
// receiver's position and wakes senders asleep for room, unless another
// party holds the retire word.
func (r ringMem) retireNow(op string, probe bool) error {
	hw := r.u64(ringOffHead)
	if ok, err := r.takeRetire(op, probe); !ok || err != nil {
		return err
	}
	defer atomic.StoreUint32(r.u32(ringOffRetire), 0)
	h := atomic.LoadUint64(hw) // no one else moves it now
	if h > r.head || r.head-h > r.cap || h%recAlign != 0 {
		return r.corrupt(op, "head %d with the receiver at %d, capacity %d", h, r.head, r.cap)
	}
	r.clearStamps(h, r.head)
	atomic.StoreUint64(hw, r.head)
	r.retired, r.quiet = r.head, false
	r.wakeSenders()
	return nil
}

// retireForSender retires what the receiver has consumed, for a sender
// short of room. It reports whether the head may have moved (look again):
// false when nothing is pending or another party holds the retire word.
func (r ringMem) retireForSender(op string, probe bool) (bool, error) {
	nw, hw := r.u64(ringOffNext), r.u64(ringOffHead)
	if atomic.LoadUint64(nw) <= atomic.LoadUint64(hw) {
		return false, nil
	}
	if ok, err := r.takeRetire(op, probe); !ok || err != nil {
		return false, err
	}
	defer atomic.StoreUint32(r.u32(ringOffRetire), 0)
	if ringRetireHook != nil {
		ringRetireHook()
	}
	h := atomic.LoadUint64(hw) // no one else moves it now
	n := atomic.LoadUint64(nw) // may still grow: what it was is retired
	if n <= h {
		return true, nil // retired meanwhile
	}
	t := atomic.LoadUint64(r.u64(ringOffTail))
	if n%recAlign != 0 || h%recAlign != 0 || n > t || n-h > r.cap {
		return false, r.corrupt(op, "consumed up to %d with head %d, tail %d, capacity %d", n, h, t, r.cap)
	}
	atomic.StoreUint64(hw, n)
	if tw := r.u32(ringOffTxWake); atomic.LoadUint32(tw)&1 != 0 {
		r.wake(tw, false) // other senders asleep for room
	}
	return true, nil
}

// takeRetire takes the retire word: free, or, when probe is set, from a
// holder that has died. It does not wait.
func (r ringMem) takeRetire(op string, probe bool) (bool, error) {
	w := r.u32(ringOffRetire)
	v := atomic.LoadUint32(w)
	switch {
	case v == 0:
		return atomic.CompareAndSwapUint32(w, 0, r.token), nil
	case v > lock.MaxToken:
		return false, r.corrupt(op, "retire word %#x", v)
	case !probe || v == r.token || r.alive(v):
		return false, nil
	}
	return atomic.CompareAndSwapUint32(w, v, r.token), nil
}

// adoptConsumed takes over what a previous receiver consumed and left
// (the next word past the head h; tail t): the new receiver starts after
// it and retires it at its first call.
func (r ringMem) adoptConsumed(op string, h, t uint64) error {
	r.head, r.retired, r.quiet = h, h, true
	n := atomic.LoadUint64(r.u64(ringOffNext))
	if n <= h {
		return nil // retired, or never used
	}
	if n%recAlign != 0 || n > t || n-h > r.cap {
		return r.corrupt(op, "consumed up to %d with head %d, tail %d, capacity %d", n, h, t, r.cap)
	}
	r.head = n
	return nil
}
