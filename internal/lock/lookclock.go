package lock

import (
	"sync/atomic"
	"time"
)

// A LookClock reckons how long a spin took without a clock read on its way
// out. A spin reads the clock at its start and at its time checks; one
// that succeeds before its first check is reckoned from what a look cost
// at the last check of an earlier spin. A clock read (20-26 ns on the
// machines of BENCHMARKS.md) costs as much as a few looks, and on the way
// out it lies on the path of every hand-off a spin waits for. The mutex
// and semaphore spin (spin.go) and the ring's waits use it.
type LookClock struct {
	ps atomic.Int64 // what a look cost at the last time check, in ps
}

// Looked records, at a time check, that i looks of a spin took el.
func (c *LookClock) Looked(i int, el time.Duration) {
	c.ps.Store(int64(el) * 1000 / int64(i))
}

// Took returns how long a spin that started at start and succeeded at its
// look i took: before its first time check (look checks), by what looks
// cost; past it, by the clock.
func (c *LookClock) Took(i, checks int, start time.Time) time.Duration {
	if i < checks {
		return time.Duration(int64(i) * c.ps.Load() / 1000)
	}
	return time.Since(start)
}
