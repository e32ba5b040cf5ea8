package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/fence"
	"github.com/shmkit/shm/internal/lock"
	"github.com/shmkit/shm/internal/region"
)

var (
	// ErrRingClosed is returned by operations on a [Ring] after its Close
	// (or its Mapping's Close), and by the send operations after
	// [Ring.CloseSend]. It matches [fs.ErrClosed] under errors.Is.
	ErrRingClosed error = ringClosedError{}

	// ErrPeerDead is returned by the send operations once the ring's
	// receiver has closed its handle, and to a sender waiting on a full
	// ring when the receiver has died (unless [Ring.WaitForReceiver] asked
	// to wait for a new one).
	ErrPeerDead = errors.New("shm: ring peer is dead")

	// ErrRingCorrupt is returned when the ring's shared memory holds
	// something no correct peer writes: an index out of range or moving
	// backwards, a record longer than the ring, a padding record in the
	// wrong place. The ring cannot be used any more.
	ErrRingCorrupt = errors.New("shm: ring is corrupt")

	// ErrMessageTooLarge is returned by the send operations for a message
	// longer than [Ring.MaxMessage].
	ErrMessageTooLarge = errors.New("shm: message too large for the ring")

	// ErrRingBusy is returned by the receive operations when another
	// receiver, alive, is attached to the ring, and by the send
	// operations when every sender slot is taken by a live sender.
	ErrRingBusy = errors.New("shm: ring is busy")

	// ErrRingMismatch is returned by [Mapping.Ring] when the bytes at the
	// offset hold a ring of another size or layout version.
	ErrRingMismatch = errors.New("shm: ring geometry does not match")
)

type ringClosedError struct{}

func (ringClosedError) Error() string        { return "shm: ring is closed" }
func (ringClosedError) Is(target error) bool { return target == fs.ErrClosed }

// A Ring is a queue of messages in shared memory: many senders
// (goroutines and processes) into one receiver at a time. Get one with
// [Mapping.Ring]; every process that calls Ring with the same offset and
// size of the same object gets the same ring. A message is delivered
// whole or not at all, and the messages of each sender arrive in the
// order it sent them.
//
// A handle sends with [Ring.Send], [Ring.TrySend] or [Ring.Reserve] and
// [Ring.Commit], and receives with [Ring.Receive], [Ring.TryReceive] or
// [Ring.Peek] and [Ring.Release]; the first send registers it as a sender
// and the first receive as the ring's receiver. A handle is safe for
// concurrent use; its senders take turns, as do its receivers. Where one
// goroutine sends, [Ring.Sender] takes the sending side for it, and
// [Ring.Receiver] the receiving side for one receiving goroutine: their
// calls take no turn. [Ring.OpenSendExclusive] makes a handle the ring's
// only sender, whose claims need no atomic read-modify-write.
//
// Neither side makes a system call while the other is awake: a side that
// finds nothing to do spins briefly, then says in the ring that it sleeps
// and sleeps in the kernel, and only then does the other side wake it.
//
// # Deaths and ends
//
// Senders and the receiver are known by the liveness token of their
// Mapping (the one a [Mutex] uses), which the kernel releases when the
// process dies or the Mapping is closed.
//   - Once every sender has called [Ring.CloseSend] or died (after at
//     least one sender attached), the receiver gets the messages left and
//     then io.EOF: at once after the last CloseSend, within about five
//     seconds of the last death (an idle receiver probes every five
//     seconds).
//     A sender attaching later makes the ring live again; senders that
//     start at different times should register with [Ring.OpenSend]
//     before any of them closes.
//   - A sender that dies between claiming space and committing its
//     message leaves a record that the receiver skips within about 20 to
//     40 ms of the death (it probes the claimant's token when the record
//     stays uncommitted); [Ring.Stats] counts such lost messages.
//   - A receiver that dies leaves the ring to the next one, which gets
//     every message it had not received or released (at least once
//     across the crash, exactly once otherwise).
//   - A sender gets [ErrPeerDead] at once when the ring's receiver has
//     closed its handle, and, waiting on a full ring, within about 50 to
//     100 ms of the receiver's death. This is the default; a sender that
//     never saw a receiver waits for one, and [Ring.WaitForReceiver]
//     makes senders wait for a new receiver instead.
//
// Memory written by other processes is not trusted: every index, length
// and header is checked before use, and a ring that fails a check returns
// [ErrRingCorrupt], never a panic or an access outside the ring's bytes.
type Ring struct {
	m     *Mapping
	name  string
	off   int            // the ring's offset in the mapping
	reg   *region.Region // the mapping's operation hold
	cap   uint64
	mask  uint64
	max   uint64 // largest payload
	n     int
	key   uint64 // the stamp key (ring_layout.go)
	owner *lock.FileOwner
	token uint32

	closed    atomic.Bool
	spinMode  atomic.Int64  // SetSpin: 0 adaptive, -1 never, else the budget in ns
	done      chan struct{} // closed by Close: wakes goroutines waiting for a gate
	closeDone chan struct{} // closed when Close has returned
	waitRecv  atomic.Bool

	lastProbe atomic.Int64 // monotonic ns of the last probe by a non-waiting call

	mu sync.Mutex // guards the fields below that Close changes

	// The RingSender and RingReceiver holding the gates, nil for none
	// (ring_lease.go).
	txLease, rxLease *lease

	// Send side; sendGate admits one sending goroutine at a time.
	sendGate   gate
	slot       int  // sender slot, -1 before the first send
	exclusive  bool // the handle holds the exclusive sender word (ring_exclusive.go)
	sendClosed atomic.Bool
	cachedHead uint64
	sendEnd    uint64 // where this handle's last sent record ended (ring_prefetch.go)
	resPos     uint64 // position of the outstanding reservation's record
	resLen     uint64 // its payload length; resOn says whether there is one
	resOn      bool
	resGate    gate // held from Reserve to Commit or Abort
	txSpin     spinEstimate

	// Receive side; recvGate admits one receiving goroutine at a time.
	recvGate   gate
	receiver   bool   // this handle holds the receiver slot
	head       uint64 // the receiver's position
	quiet      bool   // nothing followed the last message consumed (ring_retire.go)
	retired    uint64 // the head as last seen or stored: retired up to here at least
	cachedTail uint64
	peekSize   uint64      // record size of the message Peek returned, 0 for none
	wakeArmed  atomic.Bool // a deferred wake-up of the senders is pending
	wakeTimer  *time.Timer // runs it (armSenderWake); set under the receive gate
	rxSpin     spinEstimate
}

// Ring returns the ring in bytes [off, off+n) of the mapping, which must
// be read-write; off must be a multiple of 8 and n at least
// RingSize(0, 1). Use [RingSize] to choose n. All zero bytes are an empty
// ring, so a fresh object needs no initialisation. A process that passes
// the n of an existing ring gets that ring; another n, or bytes that hold
// something else, give [ErrRingMismatch] or [ErrRingCorrupt].
//
// The handle must be closed with [Ring.Close]; closing the Mapping also
// ends it.
func (m *Mapping) Ring(off, n int) (*Ring, error) {
	const op = "ring attach"
	c := ringCapacity(n)
	if c == 0 {
		return nil, &fs.PathError{Op: op, Path: m.name, Err: fmt.Errorf("a ring needs at least %d bytes, not %d", ringHeaderSize+ringMinCapacity, n)}
	}
	if _, err := m.pointer(off, n, 8); err != nil {
		return nil, &fs.PathError{Op: op, Path: m.name, Err: errors.Unwrap(err)}
	}
	owner, err := m.lockOwner()
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: m.name, Err: errors.Unwrap(err)}
	}
	fence.Start() // the gates' plain release, once registered (ring_gate.go)
	reg, err := m.region()
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: m.name, Err: errors.Unwrap(err)}
	}
	base, err := reg.Acquire()
	if err != nil {
		return nil, m.errClosed(op)
	}
	defer reg.Release()
	p := unsafe.Add(base, off)
	magic := (*uint64)(unsafe.Add(p, ringOffMagic))
	if !atomic.CompareAndSwapUint64(magic, 0, ringMagicWord) {
		switch v := atomic.LoadUint64(magic); {
		case v == ringMagicWord:
		case v>>32 == ringMagic:
			return nil, &fs.PathError{Op: op, Path: m.name, Err: fmt.Errorf("ring layout version %d, this library knows %d: %w", uint32(v), ringVersion, ErrRingMismatch)}
		default:
			return nil, &fs.PathError{Op: op, Path: m.name, Err: fmt.Errorf("%d bytes at offset %d hold no ring (first word %#x): %w", n, off, v, ErrRingCorrupt)}
		}
	}
	size := (*uint64)(unsafe.Add(p, ringOffSize))
	if !atomic.CompareAndSwapUint64(size, 0, uint64(n)) {
		if v := atomic.LoadUint64(size); v != uint64(n) {
			return nil, &fs.PathError{Op: op, Path: m.name, Err: fmt.Errorf("the ring at offset %d has %d bytes, not %d: %w", off, v, n, ErrRingMismatch)}
		}
	}
	keyw := (*uint64)(unsafe.Add(p, ringOffKey))
	atomic.CompareAndSwapUint64(keyw, 0, rand.Uint64()|1)
	key := atomic.LoadUint64(keyw)
	if key&1 == 0 {
		return nil, &fs.PathError{Op: op, Path: m.name, Err: fmt.Errorf("the ring at offset %d has the stamp key %#x, which is not odd: %w", off, key, ErrRingCorrupt)}
	}
	r := &Ring{
		m:         m,
		name:      m.name,
		off:       off,
		reg:       reg,
		cap:       c,
		mask:      c - 1,
		max:       ringMaxMessage(c),
		n:         n,
		key:       key,
		owner:     owner,
		token:     owner.Token(),
		done:      make(chan struct{}),
		closeDone: make(chan struct{}),
		slot:      -1,
	}
	if err := m.addRing(r); err != nil {
		return nil, m.errClosed(op)
	}
	return r, nil
}

// MaxMessage returns the largest message the ring accepts: half its data
// area less a record header (at most 1 GiB).
func (r *Ring) MaxMessage() int { return int(r.max) }

// WaitForReceiver sets what a sender waiting on a full ring does when the
// ring's receiver has died or closed: return [ErrPeerDead] (false, the
// default) or keep waiting for a new receiver (true).
func (r *Ring) WaitForReceiver(wait bool) { r.waitRecv.Store(wait) }

// SetSpin sets how long the handle's waiting calls (a Send or Reserve on
// a full ring, a Receive or Peek on an empty one) spin before they sleep
// in the kernel. A negative d restores the default, an adaptive spin of
// 10 to 50 µs that follows how long recent waits took: two processes
// that hand messages back and forth keep each other awake and make no
// system call. d == 0 never spins: a waiting call sleeps at once, which
// uses the least CPU and costs a wake-up (a system call on the other
// side, and the kernel's wake-up latency) whenever the call had to wait.
// A positive d spins up to d each time, for a caller that would rather
// spend a CPU than a wake-up. On a single CPU no call spins, whatever d.
// Whatever d, a receive on amd64 or 386 that has just said it sleeps
// looks at the ring for 10 µs more before it enters the kernel (a record
// published at that moment may still be on its way; ARCHITECTURE.md,
// "Publishing without a barrier"). A send of at most 16 KiB that spins
// for room on a ring of at least 64 KiB looks at the ring every 2 to 4
// µs, not back to back: room comes back in batches, and its looks would
// slow the receiver that frees it (ARCHITECTURE.md, "Pausing for room").
// On Linux, the BSDs and darwin, a spin that starts within 100 µs of a
// wake-up yields the CPU (sched_yield) as it spins, so that the other
// process can run if the kernel queued it on this CPU: after a wake-up
// this process made, the first spin yields at once, and every spin in
// the window yields at its time checks, as does one in the window of a
// wake-up this process had.
func (r *Ring) SetSpin(d time.Duration) {
	switch {
	case d < 0:
		r.spinMode.Store(0)
	case d == 0:
		r.spinMode.Store(-1)
	default:
		r.spinMode.Store(int64(d))
	}
}

// Close ends the handle: an outstanding reservation is abandoned (the
// receiver skips it), a message returned by Peek and not released stays
// in the ring for the next receiver, and the handle's sender and receiver
// slots are freed (a handle that sent closes its sending side as
// [Ring.CloseSend] does).
// Blocked operations of the handle return [ErrRingClosed]. Close is
// idempotent and safe from several goroutines; it does not close the
// Mapping.
func (r *Ring) Close() error {
	if r.closed.Swap(true) {
		<-r.closeDone // another Close runs: return when it is over
		return nil
	}
	defer close(r.closeDone)
	defer r.m.forgetRing(r)
	close(r.done)
	if p, ok := r.holdRing(); ok {
		r.view(p).wakeBoth()
		r.releaseRing()
	}
	// Wait for the operations in progress: they see closed when they
	// wake. A gate taken here stays taken; a RingSender or RingReceiver
	// keeps its gate until its Close (ring_lease.go).
	r.stopDirection(&r.sendGate, &r.txLease, nil)
	r.stopDirection(&r.recvGate, &r.rxLease, nil)
	if r.wakeTimer != nil {
		r.wakeTimer.Stop() // one already running holds the Mapping's hold
	}
	p, ok := r.holdRing()
	if !ok {
		return nil // the mapping is gone, and with it our token
	}
	defer r.releaseRing()
	v := r.view(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.resOn {
		v.abortReservation()
	}
	if r.slot >= 0 {
		v.closeSendLocked()
	}
	if r.receiver {
		// Retire what was consumed, unless another party holds the
		// retire word (then it does, or the next party will).
		v.retireOwn("ring close", true, true)
		atomic.CompareAndSwapUint32(v.u32(ringOffRxSlot), r.token, 0)
		r.receiver = false
		v.wake(v.u32(ringOffTxWake), true)
	}
	return nil
}

// A ringMem is a ring handle with the addresses of its memory, valid for
// the length of one operation (between enter and leave): the handle
// itself keeps no pointer into the mapping.
type ringMem struct {
	*Ring
	base  unsafe.Pointer // the header at off
	lease *lease         // the RingSender's or RingReceiver's running the operation, or nil
}

func (r *Ring) view(p unsafe.Pointer) ringMem { return ringMem{Ring: r, base: p} }

// data returns the data area, exactly capacity bytes: every slice of it
// is bounds-checked against the ring's own size.
func (r ringMem) data() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(r.base, ringHeaderSize)), r.cap)
}

// enter starts an operation: the handle and its mapping must be open; the
// mapping stays mapped until leave.
func (r *Ring) enter(op string) (ringMem, error) {
	if r.closed.Load() {
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	p, ok := r.holdRing()
	if !ok {
		return ringMem{}, r.err(op, ErrRingClosed)
	}
	return r.view(p), nil
}

func (r ringMem) leave() { r.releaseRing() }

// err wraps e in a *fs.PathError naming op and the object.
func (r *Ring) err(op string, e error) error {
	return &fs.PathError{Op: op, Path: r.name, Err: e}
}

// corrupt returns ErrRingCorrupt for op with a description.
func (r *Ring) corrupt(op, format string, args ...any) error {
	return r.err(op, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrRingCorrupt))
}

func (r ringMem) u64(off uintptr) *uint64 { return (*uint64)(unsafe.Add(r.base, off)) }
func (r ringMem) u32(off uintptr) *uint32 { return (*uint32)(unsafe.Add(r.base, off)) }

func (r ringMem) slotWord(i int) *uint32 {
	return r.u32(ringOffSenders + uintptr(i)*ringSlotSize + ringSlotToken)
}
func (r ringMem) slotIntent(i int) (pos, n *uint64) {
	b := ringOffSenders + uintptr(i)*ringSlotSize
	return r.u64(b + ringSlotIntentPos), r.u64(b + ringSlotIntentLen)
}

// hdr returns the word at position pos of the data area: a record
// header's first word, where pos is a record's (a multiple of 16, as
// every record's position is). The mask keeps even a stray pos inside
// the data area, whose capacity is a power of two of at least 256, on
// an 8-byte boundary.
func (r ringMem) hdr(pos uint64) *uint64 {
	return (*uint64)(unsafe.Add(r.base, ringHeaderSize+uintptr(pos&r.mask&^7)))
}

// stamp returns the stamp word of the record header at pos, the header's
// second word (ring_layout.go).
func (r ringMem) stamp(pos uint64) *uint64 { return r.hdr(pos + 8) }

// stampOf returns the stamp of a record header at pos.
func (r *Ring) stampOf(pos uint64) uint64 { return pos ^ r.key }

// written reports whether a record header of this lap stands at pos: its
// stamp names pos. The stamp's load is the receiver's acquire: the
// header word and the payload stored before the stamp are visible once
// it matches.
func (r ringMem) written(pos uint64) bool {
	return atomic.LoadUint64(r.stamp(pos)) == r.stampOf(pos)
}

// putHeader writes the header word w of a new record at pos, then its
// stamp, which publishes both and the payload stored before. The header
// word is a plain store: no one reads it before the stamp matches.
func (r ringMem) putHeader(pos, w uint64) {
	*r.hdr(pos) = w
	storeInOrder(r.stamp(pos), r.stampOf(pos))
}

// setFlag sets f in the flags word.
func (r ringMem) setFlag(f uint32) {
	w := r.u32(ringOffFlags)
	for {
		v := atomic.LoadUint32(w)
		if v&f != 0 || atomic.CompareAndSwapUint32(w, v, v|f) {
			return
		}
	}
}

// alive reports whether the holder of token is alive. A probe that fails
// counts as alive: skipping a live sender's record would corrupt the
// ring, waiting longer for a dead one only delays.
func (r *Ring) alive(token uint32) bool {
	if token == r.token {
		return true
	}
	ok, err := r.owner.Alive(token)
	return err != nil || ok
}

// ringEpoch anchors the monotonic clock of probeDue.
var ringEpoch = time.Now()

// probeDue reports whether a non-waiting call that found nothing to do
// should probe the peers' liveness (system calls): at most once per
// ringStuckSlice per handle.
func (r *Ring) probeDue() bool {
	now := int64(time.Since(ringEpoch))
	last := r.lastProbe.Load()
	if last != 0 && now-last < int64(ringStuckSlice) {
		return false
	}
	return r.lastProbe.CompareAndSwap(last, now)
}
