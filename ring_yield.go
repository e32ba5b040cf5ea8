package shm

import (
	"sync/atomic"
	"time"
)

// Yielding after a wake-up. A process that wakes a sleeping peer and then
// spins for the peer's answer may be holding the very CPU the kernel
// queued the peer on: on the 2-vCPU machine of BENCHMARKS §7 a woken echo
// waited for its waker's spin to end (12-28 µs from a send to the echo's
// receive after a 1 ms pause, against 4-13 µs with yields), and the
// waker, its spin spent, slept and had to be woken in turn (14 µs more).
// So a spin that starts within ringYieldWindow of a wake-up this process
// made yields its CPU (the system's sched_yield) first and at each of its
// time checks; with nothing else to run there, a yield returns at once.
// A yield is a system call, made only after a wake-up, which was one: a
// spin between two awake processes makes none.

// ringYieldWindow is how long after a wake-up a spin yields. A variable
// so that a test can widen it past any preemption.
var ringYieldWindow = 100 * time.Microsecond

// ringWokeAt is when this process last woke a sleeper on a ring, in ns
// since ringEpoch (ring.go); 0 for never.
var ringWokeAt atomic.Int64

// noteWake records that this process has just woken a sleeper.
func noteWake() {
	if canYield {
		ringWokeAt.Store(max(int64(time.Since(ringEpoch)), 1))
	}
}

// spinYields reports whether a spin starting now should yield: this
// process woke a sleeper within ringYieldWindow.
func spinYields() bool {
	if !canYield {
		return false
	}
	at := ringWokeAt.Load()
	return at != 0 && int64(time.Since(ringEpoch))-at < int64(ringYieldWindow)
}

// ringYieldHook, when set (by tests only), runs at each yield of a spin.
var ringYieldHook func()

// spinYield gives up the CPU to whatever else the system would run on it.
func spinYield() {
	if ringYieldHook != nil {
		ringYieldHook()
	}
	osYield()
}
