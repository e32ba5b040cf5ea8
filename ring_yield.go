package shm

import (
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// Yielding after a wake-up (internal/futex/yield.go). A process that
// wakes a sleeping peer and then spins for its answer may be holding the
// very CPU the kernel queued the peer on: on the 2-vCPU machine of
// BENCHMARKS §7 a woken echo waited for its waker's spin to end (12-28 µs
// from a send to the echo's receive after a 1 ms pause, against 4-13 µs
// with yields), and the waker, its spin spent, slept and had to be woken
// in turn (14 µs more). And the woken echo, having answered, spun for
// the next request on the CPU its waker was queued on (a paused round
// trip of 16-18 µs, against 4-7 µs with the echo yielding too). So the
// first spin after a wake-up this process made yields its CPU at once,
// and every spin that starts within ringYieldWindow of a wake-up this
// process made or had yields at each of its time checks.

// ringYieldWindow is how long after a wake-up a spin yields. A variable
// so that a test can widen it past any preemption, or close it.
var ringYieldWindow = 100 * time.Microsecond

// spinYields reports whether a spin starting at start yields at its start
// (now) and at its time checks (checks); see futex.RecentWakes.
func spinYields(start time.Time) (now, checks bool) {
	return futex.RecentWakes(start, ringYieldWindow)
}

// ringYieldHook, when set (by tests only), runs at each yield of a spin.
var ringYieldHook func()

// spinYield gives up the CPU to whatever else the system would run on it.
func spinYield() {
	if ringYieldHook != nil {
		ringYieldHook()
	}
	futex.Yield()
}
