package shm

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/shmkit/shm/internal/fence"
)

// A gate admits one goroutine at a time, like a mutex whose waiters give
// up when a context ends or the handle closes. Taking a free gate is one
// compare-and-swap and letting it go a store and a load, both inlined,
// which matters on the ring's per-message path; waiters park on a
// channel.
//
// Where internal/fence has a heavy fence (Linux on amd64), the store that
// lets the gate go is a plain one, not the XCHG of an atomic store: that
// waited at every message for the message's lines to reach the cache. A
// waiter then calls the heavy fence before it parks and tries once more
// (acquireSlow), so that a release it may have missed is seen.
type gate struct {
	held   uint32 // 1 while held; atomic, but for release's plain store
	nwait  atomic.Int32
	mu     sync.Mutex
	wakeCh chan struct{} // closed by release when waiters may wait on it
}

// acquire takes the gate, waiting until it is free, ctx is done (ctx's
// error) or done is closed (errDone).
func (g *gate) acquire(ctx context.Context, done <-chan struct{}) error {
	if atomic.CompareAndSwapUint32(&g.held, 0, 1) {
		return nil
	}
	return g.acquireSlow(ctx, done)
}

func (g *gate) acquireSlow(ctx context.Context, done <-chan struct{}) error {
	for {
		g.mu.Lock()
		// Count ourselves before trying, so that a release after our
		// failed try sees us and wakes us.
		g.nwait.Add(1)
		if atomic.CompareAndSwapUint32(&g.held, 0, 1) {
			g.nwait.Add(-1)
			g.mu.Unlock()
			return nil
		}
		if g.wakeCh == nil {
			g.wakeCh = make(chan struct{})
		}
		w := g.wakeCh
		g.mu.Unlock()
		// A holder that let go with a plain store may have loaded nwait
		// before our count reached it, and its store may not have
		// reached us: then neither saw the other. After the heavy fence
		// its store is visible, or it had not stored yet and will see
		// our count.
		if fence.Heavy() && atomic.CompareAndSwapUint32(&g.held, 0, 1) {
			g.nwait.Add(-1)
			return nil
		}
		var err error
		select {
		case <-w:
		case <-ctx.Done():
			err = ctx.Err()
		case <-done:
			err = errDone
		}
		g.nwait.Add(-1)
		if err != nil {
			return err
		}
	}
}

// release lets the gate go and wakes its waiters, which race for it.
func (g *gate) release() {
	if fence.Plain() {
		g.held = 0 // no barrier: a waiter that missed it sees it after fence.Heavy
	} else {
		atomic.StoreUint32(&g.held, 0)
	}
	if g.nwait.Load() > 0 {
		g.wakeWaiters()
	}
}

// wakeWaiters wakes the goroutines waiting in acquire.
func (g *gate) wakeWaiters() {
	g.mu.Lock()
	if g.wakeCh != nil {
		close(g.wakeCh)
		g.wakeCh = nil
	}
	g.mu.Unlock()
}

// errDone is returned by acquire when the handle closed.
var errDone = ErrRingClosed
