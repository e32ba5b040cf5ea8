//go:build !windows

package lock

import (
	"context"
	"errors"
	"time"

	"github.com/shmkit/shm/internal/futex"
	"github.com/shmkit/shm/internal/region"
)

// A waitQueue is how the waiters of one lock word sleep and are woken
// across processes. Here it is the futex layer, which the kernel keys by
// the word's address in the shared object: it needs no state, and no key
// (waitq_windows.go is the other kind).
type waitQueue struct{}

// newWaitQueue returns the queue of a lock word; neither its key nor its
// address is needed here.
func newWaitQueue(string, *uint32) (*waitQueue, error) { return &waitQueue{}, nil }

// wake wakes one sleeper on word, if any. sleepers, the number of
// waiters the word says are registered (1 for a mutex), matters only
// where wake-ups are counted (waitq_windows.go). The word said someone
// waits, so the next spin of this process yields (spin.go).
func (*waitQueue) wake(word *uint32, sleepers uint32) error { return futex.WakeSleepers(word, 1) }

// A waitCall is one slow call's stay among a word's sleepers (a Lock or
// Wait that sleeps): begin, any number of sleeps, end.
type waitCall struct {
	ctx       context.Context
	mem       *region.Region
	word      *uint32
	stopDone  func()
	stopClose func()
}

// begin arranges for ctx's end and the region's Close to wake the
// sleepers on word (the caller included; the others see a spurious
// wake-up and sleep again) until end. owner, for a mutex waiter, is the
// handle's owner (unused here: holders are watched by tokenWatch).
func (*waitQueue) begin(ctx context.Context, mem *region.Region, word *uint32, _ Owner) (*waitCall, error) {
	return &waitCall{ctx: ctx, mem: mem, word: word,
		stopDone: futex.WakeOnDone(ctx, word), stopClose: mem.WakeOnClose(word)}, nil
}

// end undoes begin: once it returns nothing touches the word for the call.
func (c *waitCall) end() {
	c.stopClose()
	c.stopDone()
}

// watchHolder reports whether a sleep will end when the holder of token
// dies, without waiting for its slice to run out: never here (tokenWatch
// does that on Linux, through the word).
func (c *waitCall) watchHolder(uint32) bool { return false }

// sleep is one sleep of a waiter, shared by Mutex.Lock and
// Semaphore.Wait: it sleeps on the word while it holds v, for one slice
// or until ctx's deadline, whichever comes first, and then says whether
// the waiter must leave and why: a failed wait, the region's Close
// (fs.ErrClosed), or ctx's end (ctx.Err(), or context.DeadlineExceeded
// once the deadline has passed even if ctx has not noticed yet). The
// caller deregisters as a waiter (abandon) before it returns that error.
// timedOut reports a slice that ran out, which a mutex waiter takes as
// the time to probe the holder. A nil error with timedOut false is a
// wake-up, perhaps spurious: the caller looks at the word again.
func (c *waitCall) sleep(v uint32, slice time.Duration) (timedOut bool, err error) {
	deadline, ctxDeadline, hasDeadline := sliceDeadline(c.ctx, slice)
	if c.ctx.Err() != nil {
		// Ended already: leave without a system call. (An end after this
		// look is covered by WakeOnDone, which wakes until the call ends.)
		return false, afterSleep(c.ctx, c.mem, ctxDeadline, hasDeadline)
	}
	werr := futex.Wait(c.word, v, deadline)
	if werr != nil && !errors.Is(werr, futex.ErrTimeout) {
		return false, werr
	}
	if err := afterSleep(c.ctx, c.mem, ctxDeadline, hasDeadline); err != nil {
		return false, err
	}
	return werr != nil, nil
}

// slice returns the sleep slice: native for the OS primitive, shorter when
// waits poll, so cancellation is noticed quickly.
func slice(native time.Duration) time.Duration {
	if futex.Kind() == "poll" {
		return pollSlice
	}
	return native
}
