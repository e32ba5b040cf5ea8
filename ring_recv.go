package shm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/lock"
)

// Receive waits for the next message and returns it appended to buf[:0]
// (so a buf with room avoids allocation), until ctx is done (then it
// returns ctx.Err(), wrapped). Once every sender has closed or died and
// the ring is empty it returns io.EOF. The first receive makes the handle
// the ring's receiver; while another receiver is alive it returns
// [ErrRingBusy].
func (r *Ring) Receive(ctx context.Context, buf []byte) ([]byte, error) {
	out, _, err := r.receive(ctx, "ring receive", buf, true)
	return out, err
}

// TryReceive is Receive without waiting: ok is false when no message is
// ready.
func (r *Ring) TryReceive(buf []byte) (msg []byte, ok bool, err error) {
	return r.receive(context.Background(), "ring tryreceive", buf, false)
}

func (r *Ring) receive(ctx context.Context, op string, buf []byte, wait bool) ([]byte, bool, error) {
	v, err := r.enterRecv(ctx, op)
	if err != nil {
		return nil, false, err
	}
	// No defer on the per-message path: nothing below panics (next reads
	// the ring only through checked indices), and a deferred call cost
	// the 64-byte stream a few percent.
	buf, ok, err := v.receiveIn(ctx, op, buf, wait)
	v.leaveRecv()
	return buf, ok, err
}

// receiveIn is a receive's work once it is admitted (by the gate or a
// RingReceiver's lease) as the receiver.
func (r ringMem) receiveIn(ctx context.Context, op string, buf []byte, wait bool) ([]byte, bool, error) {
	msg, size, err := r.next(ctx, op, wait)
	if err != nil || size == 0 {
		return nil, false, err
	}
	buf = slices.Grow(buf[:0], len(msg))[:len(msg)]
	copyCached(buf, msg)
	r.consumed(size)
	r.peekSize = 0
	return buf, true, nil
}

// Peek waits for the next message as Receive does and returns it in
// place, in the ring: zero copy. The message stays in the ring until
// [Ring.Release]; Peek again returns the same message. The slice is valid
// until Release, the next Receive, Close or the Mapping's Close. A
// receiver that dies between Peek and Release leaves the message to the
// next receiver.
func (r *Ring) Peek(ctx context.Context) ([]byte, error) {
	const op = "ring peek"
	v, err := r.enterRecv(ctx, op)
	if err != nil {
		return nil, err
	}
	defer v.leaveRecv()
	return v.peekIn(ctx, op)
}

// peekIn is Peek's work once it is admitted.
func (r ringMem) peekIn(ctx context.Context, op string) ([]byte, error) {
	msg, size, err := r.next(ctx, op, true)
	if err != nil {
		return nil, err
	}
	r.peekSize = size
	return msg[:len(msg):len(msg)], nil
}

// Release removes the message Peek returned from the ring.
func (r *Ring) Release() error {
	const op = "ring release"
	v, err := r.enterRecv(context.Background(), op)
	if err != nil {
		return err
	}
	defer v.leaveRecv()
	return v.releaseIn(op)
}

// releaseIn is Release's work once it is admitted.
func (r ringMem) releaseIn(op string) error {
	if r.peekSize == 0 {
		return r.err(op, errors.New("no message peeked"))
	}
	r.consumed(r.peekSize)
	r.peekSize = 0
	return nil
}

// enterRecv takes the receive gate and the receiver slot; the gate keeps
// the memory mapped (ring_hold.go).
func (r *Ring) enterRecv(ctx context.Context, op string) (ringMem, error) {
	if err := r.recvGate.acquire(ctx, r.done); err != nil {
		return ringMem{}, r.err(op, err)
	}
	v, err := r.recvReady(op)
	if err != nil {
		r.recvGate.release()
		return ringMem{}, err
	}
	return v, nil
}

// recvReady is enterRecv's work once the receive gate is held: the handle
// must be open, and it becomes the ring's receiver if it is not.
func (r *Ring) recvReady(op string) (ringMem, error) {
	v, ok := r.gatedView()
	if !ok {
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	if !r.receiver {
		if err := v.attachReceiver(op); err != nil {
			return ringMem{}, err
		}
	}
	return v, nil
}

func (r ringMem) leaveRecv() { r.recvGate.release() }

// attachReceiver takes the receiver slot if it is free or its holder is
// dead, and starts where its predecessor stopped: it gets every message
// the predecessor did not receive or release.
func (r ringMem) attachReceiver(op string) error {
	w := r.u32(ringOffRxSlot)
	for range 16 {
		v := atomic.LoadUint32(w)
		if v > lock.MaxToken {
			return r.corrupt(op, "receiver token %#x", v)
		}
		if v != 0 && (v == r.token || r.alive(v)) {
			return r.err(op, fmt.Errorf("another receiver is attached: %w", ErrRingBusy))
		}
		if !atomic.CompareAndSwapUint32(w, v, r.token) {
			continue
		}
		h, t, err := r.indices(op)
		if err != nil {
			atomic.CompareAndSwapUint32(w, r.token, 0)
			return err
		}
		if err := r.adoptConsumed(op, h, t); err != nil {
			atomic.CompareAndSwapUint32(w, r.token, 0)
			return err
		}
		r.receiver = true
		r.cachedTail = t
		r.setFlag(flagReceiverSeen)
		return nil
	}
	return r.err(op, ErrRingBusy)
}

// next finds the next message at the receiver's head, waiting for one if
// wait is set. It returns the payload in place and the record's size; a
// size of 0 with a nil error means there is none (wait not set).
func (r ringMem) next(ctx context.Context, op string, wait bool) (msg []byte, size uint64, err error) {
	if r.retireDue(false) {
		if err := r.retireNow(op, false); err != nil {
			return nil, 0, err
		}
	}
	if wait {
		// A streaming receiver mostly finds its message at the first
		// look: take it with a cheap look, as a spin's, without building
		// the waiting machinery. Only a look that finds nothing goes on
		// to the full look before sleeping, which retires everything
		// consumed; with one CPU (no spinning) every wait's first look
		// was that full look, a retire per message.
		if msg, size, _, err = r.poll(op, false, true); err != nil || size > 0 {
			return msg, size, err
		}
	}
	poll := func(probe, spinning bool) (bool, time.Duration, error) {
		if !spinning && (wait || probe) {
			// The full look before a sleep (and a polling caller's
			// probe): retire everything consumed, taking the retire
			// word over from a dead holder when probing.
			if err := r.retireOwn(op, true, probe); err != nil {
				return true, 0, err
			}
		}
		var slice time.Duration
		msg, size, slice, err = r.poll(op, probe, spinning)
		return err != nil || size > 0, slice, err
	}
	// A waiting call looks as a spin does (cheaply) until it is about
	// to sleep; a call that does not wait looks fully.
	if done, _, err := poll(false, wait && ringSpinning); done {
		return msg, size, err
	}
	if !wait {
		// Probe now and then, so that polling callers see deaths too.
		if r.probeDue() {
			_, _, err = poll(true, false)
		}
		return msg, size, err
	}
	err = r.await(ctx, op, r.u32(ringOffRxWake), ringGrace, 0, &r.rxSpin, &r.closed, poll)
	if err != nil {
		return nil, 0, err
	}
	return msg, size, nil
}

// ringEOFHook, when set (by tests only), runs in poll when the receiver
// has found the ring empty (tail == head), before it looks whether every
// sender has gone.
var ringEOFHook func()

// maxSteps bounds the padding records one poll skips.
const maxSteps = 64

// poll looks once for a committed message at the head, skipping padding
// and, when probe is set, records whose sender died before committing.
// With no message it returns how long to sleep before probing: io.EOF
// once the ring is empty and every sender has gone, which a spinning
// call does not look for (it reads every sender slot; the last sender's
// close wakes the receiver, and the look before sleeping finds the end).
func (r ringMem) poll(op string, probe, spinning bool) (msg []byte, size uint64, slice time.Duration, err error) {
	for range maxSteps {
		h := r.head
		idx := h & r.mask
		if !r.written(h) {
			if spinning {
				// The cheap look of a spin: the tail is a line every
				// sender writes, and reading it at each turn would
				// take it from them. The line after the header's is
				// read instead: the payload of a small message.
				r.touchLineAfter(h)
				return nil, 0, ringIdleSlice, nil
			}
			t, err := r.loadTail(op, h)
			if err != nil {
				return nil, 0, 0, err
			}
			if t == h {
				if ringEOFHook != nil {
					ringEOFHook()
				}
				gone, err := r.sendersGone(op, probe)
				if err != nil {
					return nil, 0, 0, err
				}
				if gone {
					// A sender may have claimed room, committed and
					// closed between the tail read above and this check.
					// Its close is seen, so its claim is too: read the
					// tail again before calling the stream ended.
					t, err = r.loadTail(op, h)
					if err != nil {
						return nil, 0, 0, err
					}
					if t == h {
						return nil, 0, 0, io.EOF
					}
					continue
				}
				return nil, 0, ringIdleSlice, nil
			}
			if !probe {
				return nil, 0, ringStuckSlice, nil
			}
			skipped, err := r.skipUnwritten(op, h, t)
			if err != nil {
				return nil, 0, 0, err
			}
			if !skipped {
				return nil, 0, ringStuckSlice, nil
			}
			continue
		}
		w := atomic.LoadUint64(r.hdr(h))
		n := recLen(w)
		switch {
		case w&recPadding != 0:
			if w&recCommitted == 0 || n < ringRecordHeader || n%recAlign != 0 || idx+n > r.cap {
				return nil, 0, 0, r.corrupt(op, "padding record %#x at position %d", w, h)
			}
			if err := r.within(op, h, n); err != nil {
				return nil, 0, 0, err
			}
			r.consume(n)
		default:
			size := recordSize(n)
			if n > r.max || idx+size > r.cap {
				return nil, 0, 0, r.corrupt(op, "record header %#x at position %d", w, h)
			}
			if err := r.within(op, h, size); err != nil {
				return nil, 0, 0, err
			}
			if w&recCommitted != 0 {
				return r.data()[idx+ringRecordHeader : idx+ringRecordHeader+n], size, 0, nil
			}
			tok := recToken(w)
			if tok == 0 {
				return nil, 0, 0, r.corrupt(op, "record header %#x at position %d names no sender", w, h)
			}
			if !probe || r.alive(tok) {
				return nil, 0, ringStuckSlice, nil
			}
			r.lose(size)
		}
	}
	return nil, 0, 0, nil
}

// loadTail reads and checks the tail, which must lie in [h, h+capacity].
func (r ringMem) loadTail(op string, h uint64) (uint64, error) {
	t := atomic.LoadUint64(r.u64(ringOffTail))
	if t%recAlign != 0 || t < h || t-h > r.cap {
		return 0, r.corrupt(op, "tail %d with head %d, capacity %d", t, h, r.cap)
	}
	r.cachedTail = t
	return t, nil
}

// within checks that size bytes at h lie before the tail as last read.
// When the cached tail is behind h, the record is taken on its header's
// word alone (its bounds within the data area are checked already):
// reading the tail, a line every sender writes, for each record would
// double the cache-line transfers per message. A record that a hostile
// peer wrote past the tail is caught at the next tail read, which finds
// the head past the tail.
func (r ringMem) within(op string, h, size uint64) error {
	if h < r.cachedTail && r.cachedTail-h < size {
		return r.corrupt(op, "a %d-byte record at position %d runs past the tail %d", size, h, r.cachedTail)
	}
	return nil
}

// consume moves the receiver past a padding record of size bytes and
// wakes a sender that sleeps for room.
func (r ringMem) consume(size uint64) {
	r.advance(size)
	r.wakeSenders()
}

// wakeSenders wakes the senders that sleep for room once the ring is at
// most half full. Woken at each record, many senders would each find room
// for one message, fill it and sleep again: a system call on both sides
// per message. Below half, the wake-up is deferred by ringWakeDelay
// instead (armSenderWake), so that a sender whose message fits is not
// left asleep for its whole slice when the receiver stops reading. The
// load of the wake word is all it costs when no sender sleeps.
func (r ringMem) wakeSenders() {
	w := r.u32(ringOffTxWake)
	if atomic.LoadUint32(w)&1 == 0 {
		return
	}
	if t := atomic.LoadUint64(r.u64(ringOffTail)); t >= r.head && t-r.head > r.cap/2 {
		r.armSenderWake()
		return
	}
	r.wake(w, false)
}

// ringWakeDelay is how long a sender sleeping for room waits at most for
// a wake-up after the receiver made some room (below half the ring).
const ringWakeDelay = 200 * time.Microsecond

// armSenderWake starts the deferred wake-up of the senders unless one is
// pending; the receive gate is held. The wake-up runs on a goroutine of
// its own, inside the Mapping's hold.
func (r *Ring) armSenderWake() {
	if r.closed.Load() {
		return // Close wakes them when it frees the receiver slot
	}
	// A load first: while a sender sleeps with the ring over half full,
	// the receiver comes here at every message.
	if r.wakeArmed.Load() || r.wakeArmed.Swap(true) {
		return
	}
	if r.wakeTimer != nil {
		r.wakeTimer.Reset(ringWakeDelay)
		return
	}
	r.wakeTimer = time.AfterFunc(ringWakeDelay, func() {
		r.wakeArmed.Store(false)
		if p, ok := r.holdRing(); ok {
			v := r.view(p)
			v.wake(v.u32(ringOffTxWake), false)
			r.releaseRing()
		}
	})
}

// lose skips size bytes (which may wrap) claimed by a sender that died,
// and counts one lost message.
func (r ringMem) lose(size uint64) {
	r.advance(size)
	atomic.AddUint64(r.u64(ringOffLost), 1)
	r.wakeSenders()
}

// skipUnwritten handles a record at h below the tail t whose header is
// not written (its stamp does not match): a sender claimed the room and
// has not written a header yet. If every sender
// whose published claim covers h is dead, it skips the claim. skipped is
// false while a live sender may still write it.
func (r ringMem) skipUnwritten(op string, h, t uint64) (skipped bool, err error) {
	var lens [ringSenders]uint64
	k := 0
	for i := range ringSenders {
		tok := atomic.LoadUint32(r.slotWord(i))
		if tok == 0 {
			continue
		}
		if tok > lock.MaxToken {
			return false, r.corrupt(op, "sender slot %d holds token %#x", i, tok)
		}
		ip, il := r.slotIntent(i)
		p := atomic.LoadUint64(ip)
		l := atomic.LoadUint64(il)
		if p > h || h-p >= l {
			continue // its claim does not cover h
		}
		if r.alive(tok) {
			return false, nil
		}
		lens[k] = l - (h - p)
		k++
	}
	if r.written(h) {
		return true, nil // written meanwhile: look again
	}
	if k == 0 {
		return false, r.corrupt(op, "room at position %d (tail %d) claimed by no sender", h, t)
	}
	// Normally one dead sender claimed h. Several dead senders may have
	// tried to (all but one failed); prefer a length that ends at the
	// tail or at a written header.
	best := uint64(0)
	for _, l := range lens[:k] {
		if l%recAlign != 0 || l == 0 || l > t-h {
			continue
		}
		if best == 0 || h+l == t || r.written(h+l) {
			best = l
		}
	}
	if best == 0 {
		return false, r.corrupt(op, "room at position %d claimed by dead senders with impossible lengths", h)
	}
	r.lose(best)
	return true, nil
}

// sendersGone reports whether the receiver has reached the end: a sender
// attached once, and no sender slot holds a live sender. Without probe it
// counts every registered sender as alive (no system call). A slot holding
// a token no owner can have makes the ring corrupt, not its sender alive.
func (r ringMem) sendersGone(op string, probe bool) (bool, error) {
	if atomic.LoadUint32(r.u32(ringOffFlags))&flagSenderSeen == 0 {
		return false, nil
	}
	for i := range ringSenders {
		tok := atomic.LoadUint32(r.slotWord(i))
		if tok == 0 {
			continue
		}
		if tok > lock.MaxToken {
			return false, r.corrupt(op, "sender slot %d holds token %#x", i, tok)
		}
		if !probe || r.alive(tok) {
			return false, nil
		}
	}
	return true, nil
}
