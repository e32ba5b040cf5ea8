package futex

import (
	"context"
	"math"
	"sync"
	"time"
)

// Rewake intervals of WakeOnDone, after its first wake-up.
const (
	firstRewake = 50 * time.Microsecond
	maxRewake   = 10 * time.Millisecond
)

// WakeOnDone arranges for every sleeper on addr to be woken when ctx is
// done, for a waiter that must not sleep past ctx. It returns stop, which
// cancels the arrangement and, if the wake-up has already started, waits
// for it to finish: once stop returns, nothing touches addr on the
// caller's behalf, so the memory may go away. A context that is never
// done costs nothing.
//
// The end of ctx does not change the word, so a waiter that looked at ctx
// just before it ended and entered the wait just after the first wake-up
// would sleep through it, for a whole slice. So the wake-up is repeated,
// at growing intervals (50 µs to 10 ms), until stop: the waiter stops it
// as soon as it has seen ctx's end, within a round or two.
//
// The wake-ups reach every sleeper on the word, in other processes too;
// they see spurious wake-ups.
func WakeOnDone(ctx context.Context, addr *uint32) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = Wake(addr, math.MaxInt32)
		t := time.NewTimer(firstRewake)
		defer t.Stop()
		for wait := firstRewake; ; {
			select {
			case <-stopped:
				return
			case <-t.C:
			}
			_ = Wake(addr, math.MaxInt32)
			wait = min(2*wait, maxRewake)
			t.Reset(wait)
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stopped)
			if !cancel() {
				<-done
			}
		})
	}
}
