package shm

import (
	"context"

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

// ErrOverflow is the cause of the error that [Semaphore.Post] returns
// when the value is already 2^31-1: nothing is changed. Test for it with
// errors.Is.
var ErrOverflow = lock.ErrOverflow

// Semaphore returns the semaphore whose SemaphoreSize bytes start at
// offset off of the mapping, which must be read-write; off must be a
// multiple of 8. The handle works until the mapping is closed;
// afterwards its methods return an error satisfying
// errors.Is(err, fs.ErrClosed).
func (m *Mapping) Semaphore(off int) (*Semaphore, error) {
	if _, err := m.pointer(off, SemaphoreSize, 8); err != nil {
		return nil, err
	}
	r, err := m.region()
	if err != nil {
		return nil, err
	}
	key, err := m.waitKey(off)
	if err != nil {
		return nil, err
	}
	s, err := lock.NewSemaphoreIn(r, off, key)
	if err != nil {
		return nil, lockErr("attach", m, err)
	}
	return &Semaphore{s: s, mapping: m}, nil
}

// Post adds one to the value and wakes a waiter if one sleeps. If the
// value is already 2^31-1 it changes nothing and returns an error
// satisfying errors.Is(err, [ErrOverflow]); once the Mapping is closed,
// one satisfying errors.Is(err, fs.ErrClosed).
func (s *Semaphore) Post() error { return lockErr("post", s.mapping, s.s.Post()) }

// Wait takes one from the value, waiting while it is zero, until ctx is
// done: then it returns ctx.Err() (context.DeadlineExceeded once ctx's
// deadline has passed) without taking anything. Once the Mapping is
// closed, or if it is closed while Wait waits, Wait returns an error
// satisfying errors.Is(err, fs.ErrClosed), without taking anything.
func (s *Semaphore) Wait(ctx context.Context) error { return lockErr("wait", s.mapping, s.s.Wait(ctx)) }

// TryWait takes one from the value if it is positive, without waiting,
// and reports whether it did. Once the Mapping is closed it returns false
// and an error satisfying errors.Is(err, fs.ErrClosed).
func (s *Semaphore) TryWait() (bool, error) {
	ok, err := s.s.TryWait()
	return ok, lockErr("trywait", s.mapping, err)
}

// Value returns the current value. Other processes may change it at any
// moment, so it is only a snapshot. Once the Mapping is closed it returns
// an error satisfying errors.Is(err, fs.ErrClosed).
func (s *Semaphore) Value() (int, error) {
	v, err := s.s.Value()
	return v, lockErr("value", s.mapping, err)
}
