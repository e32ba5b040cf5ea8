package shm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/lock"
)

// errReservation is returned by Reserve while a reservation is
// outstanding, and by Commit and Abort without one.
var errNoReservation = errors.New("no reservation outstanding")

// Send sends msg, waiting while the ring is full, until ctx is done (then
// it returns ctx.Err(), wrapped, and sends nothing). It returns
// [ErrMessageTooLarge] for a message over [Ring.MaxMessage], and
// [ErrRingClosed] after [Ring.CloseSend] or Close. It returns
// [ErrPeerDead] when the ring's receiver closed its handle, or when Send
// waits for room and the receiver has died (unless
// [Ring.WaitForReceiver] asked to wait for a new one).
func (r *Ring) Send(ctx context.Context, msg []byte) error {
	_, err := r.send(ctx, "ring send", msg, true)
	return err
}

// TrySend sends msg if the ring has room for it now, without waiting, and
// reports whether it did.
func (r *Ring) TrySend(msg []byte) (bool, error) {
	return r.send(context.Background(), "ring trysend", msg, false)
}

func (r *Ring) send(ctx context.Context, op string, msg []byte, wait bool) (bool, error) {
	if uint64(len(msg)) > r.max {
		return false, r.tooLarge(op, len(msg))
	}
	v, err := r.enterSend(ctx, op)
	if err != nil {
		return false, err
	}
	// No defer on the per-message path, as in receive.
	ok, err := v.sendIn(ctx, op, msg, wait)
	v.leaveSend()
	return ok, err
}

// tooLarge is the error of a send of n bytes over the largest message.
func (r *Ring) tooLarge(op string, n int) error {
	return r.err(op, fmt.Errorf("%d bytes, at most %d: %w", n, r.max, ErrMessageTooLarge))
}

// sendIn is a send's work once it is admitted (by the gate or a
// RingSender's lease) with a sender slot: claim, copy, publish, wake.
func (r ringMem) sendIn(ctx context.Context, op string, msg []byte, wait bool) (bool, error) {
	pos, ok, err := r.claimWait(ctx, op, uint64(len(msg)), wait)
	if !ok || err != nil {
		return false, err
	}
	r.prefetchAfter(pos, pos+recordSize(uint64(len(msg))))
	idx := pos & r.mask
	copyCached(r.data()[idx+ringRecordHeader:], msg)
	r.putHeader(pos, recHeader(uint64(len(msg)), r.token, recCommitted))
	r.wake(r.u32(ringOffRxWake), false)
	if ringLeaveHook != nil {
		ringLeaveHook()
	}
	return true, nil
}

// Reserve claims room for a message of n bytes, waiting while the ring is
// full as Send does, and returns that room in the ring for the caller to
// fill: zero copy. [Ring.Commit] then delivers the message, or
// [Ring.Abort] drops it. A handle has one reservation at a time: another
// Reserve through it waits for the Commit or Abort. Other sends through
// the handle go on meanwhile (their messages come after this one). The
// slice is valid until Commit, Abort, Close or the Mapping's Close. It
// holds what the ring held there before, bytes of earlier messages (the
// ring does not clear consumed room): write every byte you commit. Until
// Commit, the receiver waits at this message: a reservation left open
// stalls the ring (unless the process dies, when the receiver skips it).
func (r *Ring) Reserve(ctx context.Context, n int) ([]byte, error) {
	const op = "ring reserve"
	if n < 0 || uint64(n) > r.max {
		return nil, r.tooLarge(op, n)
	}
	// One reservation per handle at a time: a second waits for Commit.
	if err := r.resGate.acquire(ctx, r.done); err != nil {
		return nil, r.err(op, err)
	}
	v, err := r.enterSend(ctx, op)
	if err != nil {
		r.resGate.release()
		return nil, err
	}
	defer v.leaveSend()
	return v.reserveIn(ctx, op, n)
}

// reserveIn is Reserve's work once it holds the reservation gate and is
// admitted (by the send gate or a RingSender's lease) with a sender slot;
// it lets the reservation gate go when it fails.
func (r ringMem) reserveIn(ctx context.Context, op string, n int) ([]byte, error) {
	pos, _, err := r.claimWait(ctx, op, uint64(n), true)
	if err != nil {
		r.resGate.release()
		return nil, err
	}
	// The claim is marked with our token at once, so that the receiver
	// can tell whether we died holding it.
	r.putHeader(pos, recHeader(uint64(n), r.token, 0))
	r.mu.Lock()
	r.resOn, r.resPos, r.resLen = true, pos, uint64(n)
	r.mu.Unlock()
	idx := pos&r.mask + ringRecordHeader
	return r.data()[idx : idx+uint64(n) : idx+uint64(n)], nil
}

// Commit delivers the first n bytes of the reserved room as a message; n
// may be less than the reservation, not more.
func (r *Ring) Commit(n int) error {
	const op = "ring commit"
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.resOn {
		return r.err(op, errNoReservation)
	}
	if n < 0 || uint64(n) > r.resLen {
		return r.err(op, fmt.Errorf("commit of %d bytes of a %d-byte reservation", n, r.resLen))
	}
	v, err := r.enter(op)
	if err != nil {
		return err
	}
	defer v.leave()
	full, used := recordSize(r.resLen), recordSize(uint64(n))
	if used < full {
		v.putHeader(r.resPos+used, recHeader(full-used, r.token, recCommitted|recPadding))
	}
	storeInOrder(v.hdr(r.resPos), recHeader(uint64(n), r.token, recCommitted))
	r.resOn = false
	r.resGate.release()
	v.wake(v.u32(ringOffRxWake), false)
	return nil
}

// Abort drops the reservation: the receiver skips its room.
func (r *Ring) Abort() error {
	const op = "ring abort"
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.resOn {
		return r.err(op, errNoReservation)
	}
	v, err := r.enter(op)
	if err != nil {
		return err
	}
	defer v.leave()
	v.abortReservation()
	return nil
}

// abortReservation turns the reservation into a padding record; r.mu and
// the mapping are held.
func (r ringMem) abortReservation() {
	atomic.StoreUint64(r.hdr(r.resPos), recHeader(recordSize(r.resLen), r.token, recCommitted|recPadding))
	r.resOn = false
	r.resGate.release()
	r.wake(r.u32(ringOffRxWake), false)
}

// OpenSend registers the handle as a sender now, as its first send would.
// The receiver reports io.EOF only once every registered sender has
// closed or died, so senders that start at different times should each
// call OpenSend (or send) before any of them calls CloseSend, or the
// receiver may see the end between them. It returns [ErrRingBusy] when
// every sender slot is taken by a live sender.
func (r *Ring) OpenSend() error {
	v, err := r.enterSend(context.Background(), "ring opensend")
	if err != nil {
		return err
	}
	v.leaveSend()
	return nil
}

// CloseSend ends this handle's sending: its later sends return
// [ErrRingClosed], an outstanding reservation is dropped, and once every
// sender of the ring has closed or died the receiver gets io.EOF after the
// last message. It is idempotent.
func (r *Ring) CloseSend() error {
	const op = "ring closesend"
	if r.closed.Load() {
		return nil // Close closed the sending side
	}
	if r.sendClosed.Swap(true) {
		return nil
	}
	r.kickWord(ringOffTxWake) // our blocked senders see sendClosed
	held, ok := r.stopDirection(&r.sendGate, &r.txLease, r.done)
	if !ok {
		return nil
	}
	if held {
		defer r.sendGate.release()
	}
	p, ok := r.holdRing()
	if !ok {
		return r.err(op, ErrRingClosed)
	}
	defer r.releaseRing()
	v := r.view(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resOn {
		v.abortReservation()
	}
	v.closeSendLocked()
	return nil
}

// closeSendLocked frees the sender slot and tells the receiver; r.mu and
// the mapping are held.
func (r ringMem) closeSendLocked() {
	r.sendClosed.Store(true)
	r.setFlag(flagSenderSeen)
	if r.slot >= 0 {
		atomic.CompareAndSwapUint32(r.slotWord(r.slot), r.token, 0)
		r.slot = -1
		r.dropExclusive()
	}
	r.wake(r.u32(ringOffRxWake), true)
}

// enterSend takes the send gate (waiting for the handle's other senders,
// until ctx ends) and a sender slot; the gate keeps the memory mapped
// (ring_hold.go).
func (r *Ring) enterSend(ctx context.Context, op string) (ringMem, error) {
	if err := r.sendGate.acquire(ctx, r.done); err != nil {
		return ringMem{}, r.err(op, err)
	}
	v, err := r.sendReady(op)
	if err != nil {
		r.sendGate.release()
		return ringMem{}, err
	}
	return v, nil
}

// sendReady is enterSend's work once the send gate is held: the sending
// side must be open, and the handle gets a sender slot if it has none.
func (r *Ring) sendReady(op string) (ringMem, error) {
	if r.sendClosed.Load() {
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	v, ok := r.gatedView()
	if !ok {
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	if r.slot < 0 {
		if err := v.attachSender(op); err != nil {
			return ringMem{}, err
		}
	}
	return v, nil
}

func (r ringMem) leaveSend() { r.sendGate.release() }

// ringLeaveHook, when set (by tests only), runs when a send that sent
// leaves the ring, after its last access to the memory and before it
// releases its gate.
var ringLeaveHook func()

// attachSender takes a sender slot: a free one, or one whose sender died
// with no claim the receiver may still need to resolve.
func (r ringMem) attachSender(op string) error {
	h, _, err := r.indices(op)
	if err != nil {
		return err
	}
	// take makes slot i, just taken, the handle's, unless another
	// handle sends exclusively (ring_exclusive.go): then it frees it.
	take := func(i int) error {
		ip, il := r.slotIntent(i)
		atomic.StoreUint64(il, 0)
		atomic.StoreUint64(ip, ^uint64(0))
		if err := r.checkExclusive(op); err != nil {
			atomic.CompareAndSwapUint32(r.slotWord(i), r.token, 0)
			return err
		}
		r.slot = i
		r.cachedHead = h
		r.setFlag(flagSenderSeen)
		return nil
	}
	for i := range ringSenders {
		if atomic.LoadUint32(r.slotWord(i)) == 0 && atomic.CompareAndSwapUint32(r.slotWord(i), 0, r.token) {
			return take(i)
		}
	}
	if ringReclaimHook != nil {
		ringReclaimHook()
	}
	for i := range ringSenders {
		v := atomic.LoadUint32(r.slotWord(i))
		if v > lock.MaxToken {
			return r.corrupt(op, "sender slot %d holds token %#x", i, v)
		}
		if v == 0 || v == r.token || r.alive(v) {
			continue
		}
		ip, il := r.slotIntent(i)
		p, l := atomic.LoadUint64(ip), atomic.LoadUint64(il)
		// The tail is read again now that v is known dead: one read
		// before may miss a claim v made just before it died, and then
		// its slot, the only trace of that claim, would be wiped.
		t := atomic.LoadUint64(r.u64(ringOffTail))
		settled := p >= t || (p <= h && h-p >= l)
		if settled && atomic.CompareAndSwapUint32(r.slotWord(i), v, r.token) {
			return take(i)
		}
	}
	return r.err(op, fmt.Errorf("all %d sender slots are taken: %w", ringSenders, ErrRingBusy))
}

// indices loads and checks head and tail: h, then t, so t >= h. The two
// loads are not one snapshot: between them the receiver and the other
// senders may move both by any amount, so t-h may exceed the capacity in
// a sound ring. Only a head loaded after t bounds t (that head may even
// have passed t), so the head is reloaded for that check; h itself is
// returned, older and so safe for the callers.
func (r ringMem) indices(op string) (h, t uint64, err error) {
	h = atomic.LoadUint64(r.u64(ringOffHead))
	if ringIndicesHook != nil {
		ringIndicesHook()
	}
	t = atomic.LoadUint64(r.u64(ringOffTail))
	if h%recAlign != 0 || t%recAlign != 0 || t < h {
		return 0, 0, r.corrupt(op, "head %d, tail %d, capacity %d", h, t, r.cap)
	}
	if t-h > r.cap {
		if h2 := atomic.LoadUint64(r.u64(ringOffHead)); h2 < h || h2%recAlign != 0 || t > h2 && t-h2 > r.cap {
			return 0, 0, r.corrupt(op, "head %d (then %d), tail %d, capacity %d", h, h2, t, r.cap)
		}
	}
	return h, t, nil
}

// ringReclaimHook, when set (by tests only), runs in attachSender after
// head and tail are loaded, before dead senders' slots are looked at.
var ringReclaimHook func()

// ringClaimHook, when set (by tests only), runs in claim after the
// sender published its intent and before it moves the tail.
var ringClaimHook func()

// ringIndicesHook, when set (by tests only), runs between the head and
// the tail loads of indices.
var ringIndicesHook func()

// claimWait claims room for a record of n payload bytes, waiting for
// room if wait is set. ok is false when the ring is full and wait is not.
func (r ringMem) claimWait(ctx context.Context, op string, n uint64, wait bool) (pos uint64, ok bool, err error) {
	if r.receiverClosed() {
		return 0, false, r.err(op, ErrPeerDead)
	}
	pos, ok, err = r.claim(op, n, false)
	if ok || err != nil {
		return pos, ok, err
	}
	if !wait {
		if r.probeDue() {
			// Now and then a look that probes: a dead holder of the
			// retire word, a dead receiver.
			if pos, ok, err = r.claim(op, n, true); ok || err != nil {
				return pos, ok, err
			}
			gone, err := r.receiverGone(op)
			if err != nil {
				return 0, false, err
			}
			if gone {
				return 0, false, r.err(op, ErrPeerDead)
			}
		}
		return 0, false, nil
	}
	err = r.await(ctx, op, r.u32(ringOffTxWake), ringGrace, fullPause(n, r.cap), &r.txSpin, &r.sendClosed, func(probe, _ bool) (bool, time.Duration, error) {
		p, ok, err := r.claim(op, n, probe)
		if ok || err != nil {
			pos = p
			return true, 0, err
		}
		if !probe {
			return false, ringFullSlice, nil
		}
		gone, err := r.receiverGone(op)
		if err != nil {
			return true, 0, err
		}
		if gone {
			return true, 0, r.err(op, ErrPeerDead)
		}
		return false, ringFullSlice, nil
	})
	if err != nil {
		return 0, false, err
	}
	return pos, true, nil
}

// receiverClosed reports, without a system call, whether the receiver
// closed its handle (a receiver attached once and the slot is free), so
// that sends fail at once rather than when the ring fills.
func (r ringMem) receiverClosed() bool {
	if r.waitRecv.Load() {
		return false
	}
	seen, tok := r.receiverSlot()
	return seen && tok == 0
}

// receiverGone reports whether a sender waiting for room should give up:
// a receiver attached once and now none is alive. A receiver slot holding
// a token no owner can have makes the ring corrupt.
func (r ringMem) receiverGone(op string) (bool, error) {
	if r.waitRecv.Load() {
		return false, nil
	}
	seen, tok := r.receiverSlot()
	switch {
	case tok == 0:
		return seen, nil
	case tok > lock.MaxToken:
		return false, r.corrupt(op, "receiver token %#x", tok)
	}
	return !r.alive(tok), nil
}

// ringReceiverHook, when set (by tests only), runs in receiverSlot
// between the loads of the flag and of the slot.
var ringReceiverHook func()

// receiverSlot returns whether a receiver ever attached and the token in
// the receiver slot.
// The flag is read first: a receiver sets it after taking the slot, so a
// flag seen set and a free slot read after it mean that the receiver
// left. Read the other way round, a sender could read the slot free just
// before the first receiver took it and the flag just after, and take a
// receiver that was attaching for one that had gone (a Conn's first
// Write failed so, rarely, while the peer's first Read attached).
func (r ringMem) receiverSlot() (seen bool, tok uint32) {
	seen = atomic.LoadUint32(r.u32(ringOffFlags))&flagReceiverSeen != 0
	if ringReceiverHook != nil {
		ringReceiverHook()
	}
	return seen, atomic.LoadUint32(r.u32(ringOffRxSlot))
}

// claim tries once to claim room for a record of n payload bytes (and the
// padding to the end of the area when it would not fit before it). It
// publishes its intent in the sender slot before moving the tail, so that
// the receiver can skip the claim if this process dies before writing a
// header. ok is false when the ring is full.
func (r ringMem) claim(op string, n uint64, probe bool) (pos uint64, ok bool, err error) {
	size := recordSize(n)
	tailW := r.u64(ringOffTail)
	ip, il := r.slotIntent(r.slot)
	for range 1 << 16 {
		t := atomic.LoadUint64(tailW)
		idx := t & r.mask
		total, pad := size, uint64(0)
		if idx+size > r.cap {
			pad = r.cap - idx
			total += pad
		}
		if t%recAlign != 0 {
			return 0, false, r.corrupt(op, "tail %d is not a multiple of %d", t, recAlign)
		}
		if t < r.cachedHead || t-r.cachedHead+total > r.cap {
			h := atomic.LoadUint64(r.u64(ringOffHead))
			if h < r.cachedHead || h%recAlign != 0 {
				return 0, false, r.corrupt(op, "head moved from %d to %d", r.cachedHead, h)
			}
			r.cachedHead = h
			if t < h {
				continue // t is stale
			}
			if t-h > r.cap {
				return 0, false, r.corrupt(op, "head %d, tail %d, capacity %d", h, t, r.cap)
			}
			if t-h+total > r.cap {
				// What the receiver consumed may not be retired yet:
				// retire it for it.
				if again, err := r.retireForSender(op, probe); again || err != nil {
					if err != nil {
						return 0, false, err
					}
					continue
				}
				return 0, false, nil
			}
		}
		if atomic.LoadUint64(il) != total {
			storeInOrder(il, total) // before the position: the receiver reads the pair as position then length
		}
		storeInOrder(ip, t)
		if ringClaimHook != nil {
			ringClaimHook()
		}
		if r.exclusive {
			// The only sender (ring_exclusive.go): no one else moves
			// the tail.
			storeInOrder(tailW, t+total)
		} else if !atomic.CompareAndSwapUint64(tailW, t, t+total) {
			continue
		}
		if pad > 0 {
			r.putHeader(t, recHeader(pad, r.token, recCommitted|recPadding))
		}
		return t + pad, true, nil
	}
	return 0, false, r.corrupt(op, "the tail kept moving")
}
