package shm

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/shmkit/shm/internal/fence"
)

// Leases: a handle's gate taken by one goroutine for many operations, a
// RingSender or a RingReceiver. Each operation through a Ring takes its
// direction's gate with a compare-and-swap, a locked instruction, which on
// amd64 waits for the previous message's stores to reach the cache: about
// 8 ns of a 64-byte message's 30 (BENCHMARKS.md §7, "An exclusive
// sender, one goroutine per side"). A lease takes the gate once, and its operations say that they
// run with a store to the lease's busy word and no locked instruction.
//
// The gate also keeps the memory mapped (ring_hold.go): Ring.Close takes
// both gates, so it returns only once no admitted operation runs. With a
// lease, Close (and CloseSend, and the lease's own Close) quiesce it
// instead. An operation stores busy, then loads the flags that end it
// (the handle's closed, the sending side's closed, the lease's stopped),
// and stores busy = 0 when it is done. A quiescer sets its flag with a
// locked instruction, then says it waits (waiting), runs the heavy fence
// (internal/fence) and waits until busy reads 0. Either an operation's
// busy store came before the fence reached its thread, and the quiescer
// sees it and waits for the operation's end (whose store of 0 is followed
// by a look at waiting, which it then sees, so it wakes the quiescer), or
// the operation's loads come after, and it sees the flag and touches
// nothing. Where there is no heavy fence (fence.Plain false) both stores
// are atomic, as the gate's are, and the lease saves nothing on amd64.
type lease struct {
	busy    uint32      // 1 while an operation runs; plain stores where fence.Plain
	stopped atomic.Bool // the lease's Close: its operations end
	waiting atomic.Bool // a quiescer waits for busy to read 0
	mu      sync.Mutex
	cond    *sync.Cond // on mu: signalled when busy reads 0 and waiting is set
}

// enter marks an operation in progress; the caller then checks the flags
// that end the lease's operations.
func (l *lease) enter() {
	if fence.Plain() {
		l.busy = 1
	} else {
		atomic.StoreUint32(&l.busy, 1)
	}
}

// leave ends the operation and wakes a quiescer waiting for it.
func (l *lease) leave() {
	if fence.Plain() {
		l.busy = 0
	} else {
		atomic.StoreUint32(&l.busy, 0)
	}
	if l.waiting.Load() {
		l.mu.Lock()
		if l.cond != nil {
			l.cond.Broadcast()
		}
		l.mu.Unlock()
	}
}

// admit starts an operation of the lease on r: it marks it busy, then
// looks at the flags that end it (the lease's stopped, and through
// sendReady or recvReady the handle's and its sending side's), and
// returns the ring's memory for the operation. On an error the operation
// has left.
func (l *lease) admit(r *Ring, op string, sendSide bool) (ringMem, error) {
	l.enter()
	if l.stopped.Load() {
		l.leave()
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	var v ringMem
	var err error
	if sendSide {
		v, err = r.sendReady(op)
	} else {
		v, err = r.recvReady(op)
	}
	if err != nil {
		l.leave()
		return ringMem{}, err
	}
	v.lease = l
	return v, nil
}

// quiesce waits until no operation of the lease runs; the caller has set,
// with a locked instruction, a flag that keeps the operations to come from
// touching anything.
func (l *lease) quiesce() {
	if l.idle() {
		return
	}
	l.mu.Lock()
	if l.cond == nil {
		l.cond = sync.NewCond(&l.mu)
	}
	for atomic.LoadUint32(&l.busy) != 0 {
		l.cond.Wait()
	}
	l.mu.Unlock()
}

// idle says that a quiescer waits, runs the heavy fence and reports
// whether no operation runs: either an operation's busy store is visible
// now, or its loads of the flags come after the fence and see the flag
// its caller set before.
func (l *lease) idle() bool {
	l.waiting.Store(true)
	fence.Heavy()
	return atomic.LoadUint32(&l.busy) == 0
}

// takeLease takes g for a new lease, stored in *slot, waiting for the
// handle's other operations in that direction; it fails when ctx ends, or
// the handle or (for the send side, sendSide) its sending side is closed.
func (r *Ring) takeLease(ctx context.Context, op string, g *gate, slot **lease, sendSide bool) (*lease, error) {
	if err := g.acquire(ctx, r.done); err != nil {
		return nil, r.err(op, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() || sendSide && r.sendClosed.Load() {
		g.release()
		return nil, r.err(op, ErrRingClosed)
	}
	l := new(lease)
	*slot = l
	return l, nil
}

// endLease ends the lease l, whose stopped flag its caller has set: it
// waits for the operation in progress and gives the gate back.
func (r *Ring) endLease(g *gate, slot **lease, l *lease) {
	l.quiesce()
	r.mu.Lock()
	defer r.mu.Unlock()
	if *slot == l {
		*slot = nil
		g.release()
	}
}

// stopDirection waits for the operations of one direction of the handle
// to end, for Close or CloseSend, whose flag is set: by quiescing the
// lease if one is held (which then keeps the gate until its Close), else
// by taking the gate (held reports so: the caller releases it, or keeps
// it, as Close does). ok is false when the gate could not be taken: done
// is closed (the handle is closing).
func (r *Ring) stopDirection(g *gate, slot **lease, done <-chan struct{}) (held, ok bool) {
	r.mu.Lock()
	l := *slot
	r.mu.Unlock()
	if l != nil {
		l.quiesce()
		return false, true
	}
	if g.acquire(context.Background(), done) != nil {
		return false, false
	}
	return true, true
}

// kickWord advances the wake word at off and wakes its sleepers, if the
// mapping is still there.
func (r *Ring) kickWord(off uintptr) {
	if p, ok := r.holdRing(); ok {
		kick(r.view(p).u32(off))
		r.releaseRing()
	}
}

// A RingSender is a [Ring] handle's sending side taken by one goroutine
// ([Ring.Sender]): its sends (and its Reserve's claim) take no gate, which saves a locked
// instruction per message. It is not safe for concurrent use, but for
// Close, which may come from any goroutine and ends a send in progress.
// While it is open, the handle's own send calls (Send, TrySend, Reserve,
// OpenSend, OpenSendExclusive) wait for its Close.
type RingSender struct {
	r *Ring
	l *lease
}

// Sender takes the handle's sending side for the calling goroutine,
// waiting for the handle's sends in progress until ctx ends, and returns
// it: a RingSender's Send and TrySend do what the handle's do, with less
// work per message. Close the RingSender to give the side back; closing
// the Ring ends it too.
func (r *Ring) Sender(ctx context.Context) (*RingSender, error) {
	l, err := r.takeLease(ctx, "ring sender", &r.sendGate, &r.txLease, true)
	if err != nil {
		return nil, err
	}
	return &RingSender{r: r, l: l}, nil
}

// Send is [Ring.Send] through the RingSender.
func (s *RingSender) Send(ctx context.Context, msg []byte) error {
	_, err := s.send(ctx, "ring send", msg, true)
	return err
}

// TrySend is [Ring.TrySend] through the RingSender.
func (s *RingSender) TrySend(msg []byte) (bool, error) {
	return s.send(context.Background(), "ring trysend", msg, false)
}

func (s *RingSender) send(ctx context.Context, op string, msg []byte, wait bool) (bool, error) {
	r := s.r
	if uint64(len(msg)) > r.max {
		return false, r.tooLarge(op, len(msg))
	}
	v, err := s.l.admit(r, op, true)
	if err != nil {
		return false, err
	}
	ok, err := v.sendIn(ctx, op, msg, wait)
	s.l.leave()
	return ok, err
}

// Reserve is [Ring.Reserve] through the RingSender: zero copy. Deliver
// the message with [RingSender.Commit] or drop it with
// [RingSender.Abort]; a second Reserve waits for that, as the handle's
// does (a Reserve through the handle from another goroutine while the
// RingSender is open keeps the reservation until the RingSender's Close:
// use one or the other).
func (s *RingSender) Reserve(ctx context.Context, n int) ([]byte, error) {
	const op = "ring reserve"
	r := s.r
	if n < 0 || uint64(n) > r.max {
		return nil, r.tooLarge(op, n)
	}
	if err := r.resGate.acquire(ctx, r.done); err != nil {
		return nil, r.err(op, err)
	}
	v, err := s.l.admit(r, op, true)
	if err != nil {
		r.resGate.release()
		return nil, err
	}
	b, err := v.reserveIn(ctx, op, n)
	s.l.leave()
	return b, err
}

// Commit is [Ring.Commit] of the RingSender's reservation.
func (s *RingSender) Commit(n int) error { return s.r.Commit(n) }

// Abort is [Ring.Abort] of the RingSender's reservation.
func (s *RingSender) Abort() error { return s.r.Abort() }

// CloseSend is [Ring.CloseSend] through the RingSender, which stays open
// (its sends then return [ErrRingClosed]) until its Close.
func (s *RingSender) CloseSend() error { return s.r.CloseSend() }

// Close gives the sending side back to the handle; a send in progress
// returns [ErrRingClosed]. It does not close the sending side (see
// CloseSend). It is idempotent and safe from several goroutines.
func (s *RingSender) Close() error {
	if s.l.stopped.Swap(true) {
		return nil
	}
	s.r.kickWord(ringOffTxWake)
	s.r.endLease(&s.r.sendGate, &s.r.txLease, s.l)
	return nil
}

// A RingReceiver is a [Ring] handle's receiving side taken by one
// goroutine ([Ring.Receiver]): its receives take no gate, which saves a
// locked instruction per message. It is not safe for concurrent use, but
// for Close, which may come from any goroutine and ends a receive in
// progress. While it is open, the handle's own receive calls (Receive,
// TryReceive, Peek, Release) wait for its Close.
type RingReceiver struct {
	r *Ring
	l *lease
}

// Receiver takes the handle's receiving side for the calling goroutine,
// waiting for the handle's receives in progress until ctx ends, and
// returns it: a RingReceiver's Receive, TryReceive, Peek and Release do
// what the handle's do, with less work per message. Close the
// RingReceiver to give the side back; closing the Ring ends it too.
func (r *Ring) Receiver(ctx context.Context) (*RingReceiver, error) {
	l, err := r.takeLease(ctx, "ring receiver", &r.recvGate, &r.rxLease, false)
	if err != nil {
		return nil, err
	}
	return &RingReceiver{r: r, l: l}, nil
}

// Receive is [Ring.Receive] through the RingReceiver.
func (c *RingReceiver) Receive(ctx context.Context, buf []byte) ([]byte, error) {
	v, err := c.l.admit(c.r, "ring receive", false)
	if err != nil {
		return nil, err
	}
	out, _, err := v.receiveIn(ctx, "ring receive", buf, true)
	c.l.leave()
	return out, err
}

// TryReceive is [Ring.TryReceive] through the RingReceiver.
func (c *RingReceiver) TryReceive(buf []byte) (msg []byte, ok bool, err error) {
	v, err := c.l.admit(c.r, "ring tryreceive", false)
	if err != nil {
		return nil, false, err
	}
	msg, ok, err = v.receiveIn(context.Background(), "ring tryreceive", buf, false)
	c.l.leave()
	return msg, ok, err
}

// Peek is [Ring.Peek] through the RingReceiver.
func (c *RingReceiver) Peek(ctx context.Context) ([]byte, error) {
	v, err := c.l.admit(c.r, "ring peek", false)
	if err != nil {
		return nil, err
	}
	defer c.l.leave()
	return v.peekIn(ctx, "ring peek")
}

// Release is [Ring.Release] through the RingReceiver.
func (c *RingReceiver) Release() error {
	v, err := c.l.admit(c.r, "ring release", false)
	if err != nil {
		return err
	}
	defer c.l.leave()
	return v.releaseIn("ring release")
}

// Close gives the receiving side back to the handle; a receive in
// progress returns [ErrRingClosed]. The handle stays the ring's receiver.
// It is idempotent and safe from several goroutines.
func (c *RingReceiver) Close() error {
	if c.l.stopped.Swap(true) {
		return nil
	}
	c.r.kickWord(ringOffRxWake)
	c.r.endLease(&c.r.recvGate, &c.r.rxLease, c.l)
	return nil
}
