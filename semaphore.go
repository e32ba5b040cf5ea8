package shm

import (
	"context"
	"io/fs"

	"github.com/shmkit/shm/internal/lock"
)

// SemaphoreSize is the number of bytes a [Semaphore] occupies in a
// mapping: one 64-bit word (the value in its low half, the number of
// sleeping waiters in its high half). Its offset must be a multiple of 8.
// All zero bytes are a semaphore with value 0.
const SemaphoreSize = 8

// A Semaphore is a counting semaphore in shared memory, for processes that
// map the same object. Get one with [Mapping.Semaphore]; every process
// that calls Semaphore at the same offset of the same object gets the
// same semaphore. Its value is at most 2^31-1.
//
// Post and a Wait that finds the value positive are atomic operations
// with no system call, unless a waiter sleeps. A Wait that finds zero
// spins briefly, then sleeps in the kernel (or polls, where the system
// has no cross-process wait). Waiters are not served in order.
//
// A process that dies while sleeping in Wait leaves the waiter count one
// too high: later Posts then make a needless (harmless) wake-up call.
type Semaphore struct {
	s       *lock.Semaphore
	mapping *Mapping
}

// Semaphore returns the semaphore whose SemaphoreSize bytes start at
// offset off of the mapping, which must be read-write; off must be a
// multiple of 8.
func (m *Mapping) Semaphore(off int) (*Semaphore, error) {
	p, err := m.pointer(off, SemaphoreSize, 8)
	if err != nil {
		return nil, err
	}
	s, err := lock.NewSemaphore((*uint64)(p))
	if err != nil {
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: err}
	}
	return &Semaphore{s: s, mapping: m}, nil
}

// Post adds one to the value and wakes a waiter if one sleeps. It fails,
// changing nothing, if the value is already 2^31-1.
func (s *Semaphore) Post() error { return s.s.Post() }

// Wait takes one from the value, waiting while it is zero, until ctx is
// done: then it returns ctx.Err() (context.DeadlineExceeded once ctx's
// deadline has passed) without taking anything.
func (s *Semaphore) Wait(ctx context.Context) error { return s.s.Wait(ctx) }

// TryWait takes one from the value if it is positive, without waiting,
// and reports whether it did.
func (s *Semaphore) TryWait() bool { return s.s.TryWait() }

// Value returns the current value. Other processes may change it at any
// moment, so it is only a snapshot.
func (s *Semaphore) Value() int { return s.s.Value() }
