package futex

import (
	"context"
	"math"
)

// WakeOnDone arranges for every sleeper on addr to be woken when ctx is
// done, for a waiter that must not sleep past ctx. It returns stop, which
// cancels the arrangement and, if the wake-up has already started, waits
// for it to finish: once stop returns, nothing touches addr on the
// caller's behalf, so the memory may go away. A context that is never
// done costs nothing.
//
// The wake-up reaches every sleeper on the word, in other processes too;
// they see a spurious wake-up.
func WakeOnDone(ctx context.Context, addr *uint32) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = Wake(addr, math.MaxInt32)
	})
	return func() {
		if !cancel() {
			<-done
		}
	}
}
