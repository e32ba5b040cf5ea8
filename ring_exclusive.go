package shm

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shm/internal/lock"
)

// The exclusive sender. A sender claims room by moving the tail with a
// compare-and-swap, because another sender may move it at the same time.
// A handle that knows it is the ring's only sender can move it with a
// plain store instead, one locked instruction less per message (about 8
// ns of the 30-40 a 64-byte message takes on amd64; BENCHMARKS.md §7,
// "An exclusive sender, one goroutine per side"). It says so in the
// exclusive word (off+40), with its owner token:
//
//   - The exclusive handle takes its sender slot, then the word (a
//     compare-and-swap from 0, or from the token of a dead holder), then
//     reads every other sender slot: one held by a live sender (or by
//     another handle of its own Mapping, which has the same token)
//     makes it free the word again and fail with ErrRingBusy.
//   - Every other sender reads the word after taking its slot, and fails
//     with ErrRingBusy (freeing its slot) while a live holder has it; a
//     dead holder's token it clears.
//
// Each side writes its own word with a locked instruction, then reads the
// other's, so at least one of two that race sees the other (both may, and
// both fail: a retry finds the winner, or neither). A dead holder's claims
// are settled as any dead sender's (its intent in its slot): it moves the
// tail no more. The holder frees the word after its slot when it closes
// its sending side.

// OpenSendExclusive registers the handle as the ring's only sender, as
// [Ring.OpenSend] does, and keeps every other sender out while it lives:
// their sends return [ErrRingBusy], and so does OpenSendExclusive when
// another live sender is registered (a handle that has sent, or called
// OpenSend, and not closed its sending side), another handle holds the
// ring exclusively, or another handle of the same [Mapping] sends. The
// handle's own goroutines still share it. Its sends claim room with a
// plain store, not an atomic read-modify-write, which makes a small
// message cheaper (BENCHMARKS.md). [Ring.CloseSend], Close, the
// Mapping's Close or the process's death end the exclusivity; another
// sender may then register. It is idempotent, and may follow OpenSend or
// sends on the same handle.
func (r *Ring) OpenSendExclusive() error {
	const op = "ring opensend"
	if err := r.sendGate.acquire(context.Background(), r.done); err != nil {
		return r.err(op, err)
	}
	defer r.sendGate.release()
	registered := r.slot >= 0
	v, err := r.sendReady(op)
	if err != nil {
		return err
	}
	err = v.takeExclusive(op)
	if err != nil && !registered && r.slot >= 0 {
		// Refused: the handle leaves the slot this call took, as if
		// it had not come.
		atomic.CompareAndSwapUint32(v.slotWord(r.slot), r.token, 0)
		r.slot = -1
	}
	return err
}

// takeExclusive takes the exclusive word for the handle, which holds a
// sender slot and its send gate.
func (r ringMem) takeExclusive(op string) error {
	if r.exclusive {
		return nil
	}
	w := r.u32(ringOffExcl)
	for tries := 0; ; tries++ {
		x := atomic.LoadUint32(w)
		if x != 0 {
			if err := r.exclusiveHeld(op, x); err != nil {
				return err
			}
		}
		if atomic.CompareAndSwapUint32(w, x, r.token) {
			break
		}
		if tries == 16 {
			return r.err(op, fmt.Errorf("the exclusive sender word keeps changing: %w", ErrRingBusy))
		}
	}
	for i := range ringSenders {
		if i == r.slot {
			continue
		}
		tok := atomic.LoadUint32(r.slotWord(i))
		if tok == 0 {
			continue
		}
		var err error
		switch {
		case tok > lock.MaxToken:
			err = r.corrupt(op, "sender slot %d holds token %#x", i, tok)
		case tok == r.token:
			err = r.err(op, fmt.Errorf("another handle of this mapping sends (slot %d): %w", i, ErrRingBusy))
		case r.alive(tok):
			err = r.err(op, fmt.Errorf("another sender is registered (slot %d, token %d): %w", i, tok, ErrRingBusy))
		}
		if err != nil {
			atomic.CompareAndSwapUint32(w, r.token, 0)
			return err
		}
	}
	r.exclusive = true
	return nil
}

// exclusiveHeld returns the error for a handle that is not the exclusive
// sender and finds x, not 0, in the exclusive word: ErrRingBusy while a
// live holder (or another handle of its Mapping) has it, ErrRingCorrupt
// for a token no owner can have, and nil for a dead holder's.
func (r ringMem) exclusiveHeld(op string, x uint32) error {
	switch {
	case x > lock.MaxToken:
		return r.corrupt(op, "exclusive sender word %#x", x)
	case x == r.token:
		return r.err(op, fmt.Errorf("another handle of this mapping sends exclusively: %w", ErrRingBusy))
	case r.alive(x):
		return r.err(op, fmt.Errorf("sender %d sends exclusively: %w", x, ErrRingBusy))
	}
	return nil
}

// checkExclusive is a new sender's look at the exclusive word, after it
// has taken its slot: it fails while another handle holds the word, and
// clears a dead holder's token.
func (r ringMem) checkExclusive(op string) error {
	w := r.u32(ringOffExcl)
	for range 16 {
		x := atomic.LoadUint32(w)
		if x == 0 {
			return nil
		}
		if err := r.exclusiveHeld(op, x); err != nil {
			return err
		}
		if atomic.CompareAndSwapUint32(w, x, 0) {
			return nil
		}
	}
	return r.err(op, fmt.Errorf("the exclusive sender word keeps changing: %w", ErrRingBusy))
}

// dropExclusive frees the exclusive word, after the handle's slot; the
// send gate or r.mu is held.
func (r ringMem) dropExclusive() {
	if r.exclusive {
		atomic.CompareAndSwapUint32(r.u32(ringOffExcl), r.token, 0)
		r.exclusive = false
	}
}
