package lock

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
)

// ErrOverflow is returned by [Semaphore.Post] when the value is already
// [SemValueMax].
var ErrOverflow = errors.New("shm: semaphore value would exceed its maximum")

// Sleep slices: a sleeping waiter wakes at least this often to look at its
// context and the word again. With the OS primitive a cancelled context
// wakes it at once and a deadline is the kernel's timeout, so the
// semaphore's slice only repairs a wake-up lost to a poster killed between
// raising the value and waking a sleeper; each slice end costs an idle
// waiter about 150 µs of CPU (BENCHMARKS.md), hence a long one. With
// polling the slice bounds the delay.
const (
	semSlice  = time.Second
	pollSlice = 5 * time.Millisecond
)

// The slices in use: variables so that tests can lengthen them, which
// turns a lost wake-up into a visible stall.
var (
	semSleep   = semSlice
	mutexSleep = ProbeInterval
)

// A Semaphore is a handle on a counting semaphore in a 64-bit word of
// shared memory (zero: value 0, no waiters). Handles are safe for
// concurrent use; any number of handles in any number of processes may
// refer to the same word.
type Semaphore struct {
	word  *uint64
	value *uint32 // the value half of word, where waiters sleep
	gate  chan struct{}
	spin  spinner
}

// NewSemaphore returns a handle on the semaphore at word, which must be
// 8-byte aligned.
func NewSemaphore(word *uint64) (*Semaphore, error) {
	if word == nil {
		return nil, errors.New("shm: semaphore word is nil")
	}
	if uintptr(unsafe.Pointer(word))%8 != 0 {
		return nil, fmt.Errorf("shm: semaphore word %p is not 8-byte aligned", word)
	}
	return &Semaphore{word: word, value: semValueHalf(word), gate: make(chan struct{}, 1)}, nil
}

// Value returns the current value (a snapshot).
func (s *Semaphore) Value() int { return int(semValue(atomic.LoadUint64(s.word))) }

// Waiters returns how many waiters are registered as sleeping (a
// snapshot, which can include waiters of processes that died).
func (s *Semaphore) Waiters() int { return int(semWaiters(atomic.LoadUint64(s.word))) }

// Post adds one to the value and wakes a sleeping waiter if there is one.
// It returns [ErrOverflow] if the value is [SemValueMax].
func (s *Semaphore) Post() error {
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) >= SemValueMax {
			return ErrOverflow
		}
		// One atomic step makes the token available and tells whether
		// anyone sleeps: after it, Post must not rely on the waiters.
		if atomic.CompareAndSwapUint64(s.word, d, d+1) {
			if semWaiters(d) > 0 {
				return futex.Wake(s.value, 1)
			}
			return nil
		}
	}
}

// TryWait takes one from the value if it is positive and reports whether
// it did. It never blocks.
func (s *Semaphore) TryWait() bool {
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.word, d, d-1) {
			return true
		}
	}
}

// Wait takes one from the value, sleeping while it is zero, until ctx is
// done. It returns ctx.Err() (context.DeadlineExceeded once ctx's deadline
// has passed) without taking anything if ctx ends first.
func (s *Semaphore) Wait(ctx context.Context) error {
	if s.TryWait() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.spin.spin(s.TryWait) {
		return nil
	}
	if err := enterGate(ctx, s.gate); err != nil {
		return err
	}
	defer func() { <-s.gate }()
	return s.waitSlow(ctx)
}

func (s *Semaphore) waitSlow(ctx context.Context) error {
	if ctx.Done() != nil {
		// Cancellation wakes the sleepers on this word (ours included);
		// the others see a spurious wake-up and sleep again.
		stop := context.AfterFunc(ctx, func() { _ = futex.Wake(s.value, math.MaxInt32) })
		defer stop()
	}
	ctxDeadline, hasDeadline := ctx.Deadline()
	atomic.AddUint64(s.word, semOneWaiter)
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) > 0 {
			if atomic.CompareAndSwapUint64(s.word, d, d-1-semOneWaiter) {
				return nil
			}
			continue
		}
		deadline := time.Now().Add(slice(semSleep))
		if hasDeadline && ctxDeadline.Before(deadline) {
			deadline = ctxDeadline
		}
		err := futex.Wait(s.value, 0, deadline)
		if err != nil && !errors.Is(err, futex.ErrTimeout) {
			s.abandon()
			return err
		}
		if err := ctx.Err(); err != nil {
			s.abandon()
			return err
		}
		if hasDeadline && !time.Now().Before(ctxDeadline) {
			s.abandon()
			return context.DeadlineExceeded
		}
	}
}

// abandon deregisters a waiter that gives up. It may have consumed the
// wake-up meant for a token still there: pass it on.
func (s *Semaphore) abandon() {
	d := atomic.AddUint64(s.word, ^uint64(semOneWaiter-1)) // minus one waiter
	if semValue(d) > 0 && semWaiters(d) > 0 {
		_ = futex.Wake(s.value, 1)
	}
}

// slice returns the sleep slice: native for the OS primitive, shorter when
// waits poll, so cancellation is noticed quickly.
func slice(native time.Duration) time.Duration {
	if futex.Kind() == "poll" {
		return pollSlice
	}
	return native
}
