package shm

import (
	"runtime"
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

// ringGosched is runtime.Gosched; a variable so that a test can count the
// spin's calls.
var ringGosched = runtime.Gosched

// spinGosched is the runtime.Gosched at a spin's time check; first says
// that the spin is the first after a wake-up this process made (see
// spinYields), and procs holds GOMAXPROCS for the spin, 0 until read.
//
// A spin lets the process's own goroutines run at its checks, which with
// GOMAXPROCS 1 the goroutine it waits for may need. With more Ps the
// Gosched puts the spinner on the global run queue and wakes a parked
// runtime thread to look for work (the runtime's wakep), a futex wake-up
// of a thread on the other CPU. Measured without it in every spin, the
// awake round trip's p99 rose past 2 µs (BENCHMARKS.md §7, "Gosched only
// with one P"), so other spins keep it. But the first spin after this
// process woke a sleeper waits for the sleeper's answer, and on a host
// whose wake-ups cost 10-13 µs (the wake pair of `shm bench`) the thread
// that Gosched woke delayed that answer's sight by 2-6 µs at the median
// (a timed dump of each step of 3 000 asleep round trips: 0.2-0.6 µs
// without it): the asleep round trip of `shm bench` took 13.4-19.0 µs
// with it (median 17.3, 27 runs) and 11.8-16.4 µs without (median 14.1,
// 15 runs), the awake p99 unchanged in alternated runs (§7, "No Gosched
// while waiting for a woken peer"). That spin makes it only with one P.
func spinGosched(first bool, procs *int) {
	if first {
		if *procs == 0 {
			*procs = runtime.GOMAXPROCS(0)
		}
		if *procs > 1 {
			return
		}
	}
	ringGosched()
}
