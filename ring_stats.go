package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/shmkit/shm/internal/lock"
)

// RingStats is a snapshot of a ring's state, from [Ring.Stats] or
// [Mapping.RingStats].
type RingStats struct {
	Capacity   int    // bytes of the data area
	MaxMessage int    // largest message
	Used       int    // bytes the receiver has not consumed (records, headers and padding)
	Senders    int    // sender slots held by live senders
	Exclusive  bool   // a live sender holds the ring alone ([Ring.OpenSendExclusive])
	Receiver   bool   // a live receiver is attached
	Lost       uint64 // records skipped because their sender died before committing
}

// Stats returns a snapshot of the ring's state. It probes the liveness of
// every registered sender and of the receiver (a system call each). A
// slot holding a token no owner can have gives [ErrRingCorrupt].
func (r *Ring) Stats() (RingStats, error) {
	const op = "ring stat"
	v, err := r.enter(op)
	if err != nil {
		return RingStats{}, err
	}
	defer v.leave()
	s, err := ringStatsAt(v.base, r.cap, r.alive)
	if err != nil {
		return RingStats{}, r.corrupt(op, "%v", err)
	}
	return s, nil
}

// RingStats returns a snapshot of the ring in bytes [off, off+n) of the
// mapping, as [Ring.Stats] does, without attaching to it: it writes
// nothing to the mapping, which may be read-only, registers neither as a
// sender nor as a receiver, and takes no liveness token (it probes the
// tokens of the ring's senders and receiver, a system call each). All
// zero bytes are an empty ring. Bytes that hold a ring of another size
// give [ErrRingMismatch]; bytes that hold no ring, or a ring in a state
// no correct peer leaves, [ErrRingCorrupt].
func (m *Mapping) RingStats(off, n int) (RingStats, error) {
	const op = "ring stat"
	fail := func(err error) (RingStats, error) {
		return RingStats{}, &fs.PathError{Op: op, Path: m.name, Err: err}
	}
	c := ringCapacity(n)
	if c == 0 {
		return fail(fmt.Errorf("a ring needs at least %d bytes, not %d", ringHeaderSize+ringMinCapacity, n))
	}
	f, err := m.probeFile(off, n)
	if err != nil {
		return fail(err)
	}
	probe, err := lock.NewProbe(f)
	if err != nil {
		m.mu.RLock()
		closed := m.closed
		m.mu.RUnlock()
		if closed {
			// The Mapping's Close closed f after probeFile returned it
			// (the error is then poll's "use of closed file").
			return RingStats{}, m.errClosed(op)
		}
		return fail(err)
	}
	defer probe.Close()
	reg, err := m.region()
	if err != nil {
		return fail(errors.Unwrap(err))
	}
	base, err := reg.Acquire()
	if err != nil {
		return RingStats{}, m.errClosed(op)
	}
	defer reg.Release()
	p := unsafe.Add(base, off)
	magic := atomic.LoadUint64((*uint64)(unsafe.Add(p, ringOffMagic)))
	size := atomic.LoadUint64((*uint64)(unsafe.Add(p, ringOffSize)))
	switch {
	case magic == 0 && size == 0:
		// Never attached: an empty ring (its other bytes are checked as
		// any ring's are).
	case magic == ringMagicWord:
		if size != uint64(n) {
			return fail(fmt.Errorf("the ring at offset %d has %d bytes, not %d: %w", off, size, n, ErrRingMismatch))
		}
	case magic>>32 == ringMagic:
		return fail(fmt.Errorf("ring layout version %d, this library knows %d: %w", uint32(magic), ringVersion, ErrRingMismatch))
	default:
		return fail(fmt.Errorf("%d bytes at offset %d hold no ring (first word %#x): %w", n, off, magic, ErrRingCorrupt))
	}
	alive := func(tok uint32) bool {
		ok, err := probe.Alive(tok)
		return err != nil || ok // as Ring.alive: a failed probe counts as alive
	}
	s, err := ringStatsAt(p, c, alive)
	if err != nil {
		return fail(fmt.Errorf("%v: %w", err, ErrRingCorrupt))
	}
	return s, nil
}

// probeFile checks that [off, off+n) lies in the mapping, 8-byte aligned,
// and returns the descriptor the liveness probe uses; read-only mappings
// are accepted.
func (m *Mapping) probeFile(off, n int) (*os.File, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch {
	case m.closed:
		return nil, fs.ErrClosed
	case off < 0 || off > len(m.data) || n > len(m.data)-off:
		return nil, fmt.Errorf("%d bytes at offset %d do not fit the %d-byte mapping", n, off, len(m.data))
	case uintptr(unsafe.Pointer(&m.data[off]))%8 != 0:
		return nil, fmt.Errorf("offset %d is not 8-byte aligned", off)
	case m.owner == nil:
		return nil, errNoDescriptor
	}
	return m.owner, nil
}

// ringStatsAt reads the state of the ring whose header is at p, with a
// data area of c bytes; alive says whether a token's holder lives. It
// reads only, and returns an error for a token out of range.
func ringStatsAt(p unsafe.Pointer, c uint64, alive func(uint32) bool) (RingStats, error) {
	u64 := func(off uintptr) uint64 { return atomic.LoadUint64((*uint64)(unsafe.Add(p, off))) }
	u32 := func(off uintptr) uint32 { return atomic.LoadUint32((*uint32)(unsafe.Add(p, off))) }
	s := RingStats{Capacity: int(c), MaxMessage: int(ringMaxMessage(c)), Lost: u64(ringOffLost)}
	h, t := u64(ringOffHead), u64(ringOffTail)
	if n := u64(ringOffNext); n > h && n <= t {
		h = n // consumed, not yet retired
	}
	if t >= h && t-h <= c {
		s.Used = int(t - h)
	}
	for i := range ringSenders {
		tok := u32(ringOffSenders + uintptr(i)*ringSlotSize + ringSlotToken)
		if tok > lock.MaxToken {
			return RingStats{}, fmt.Errorf("sender slot %d holds token %#x", i, tok)
		}
		if tok != 0 && alive(tok) {
			s.Senders++
		}
	}
	switch x := u32(ringOffExcl); {
	case x > lock.MaxToken:
		return RingStats{}, fmt.Errorf("exclusive sender word %#x", x)
	case x != 0:
		s.Exclusive = alive(x)
	}
	tok := u32(ringOffRxSlot)
	if tok > lock.MaxToken {
		return RingStats{}, fmt.Errorf("receiver token %#x", tok)
	}
	if tok != 0 {
		s.Receiver = alive(tok)
	}
	return s, nil
}
