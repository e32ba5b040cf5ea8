// Package litmus runs two-thread memory-ordering tests (store buffering
// and the like) in lockstep. It serves the tests of internal/fence and of
// package shm; nothing else imports it.
package litmus

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Lockstep runs a and b on two goroutines, each locked to an OS thread,
// for rounds rounds: round i of either starts once both have reached it,
// so that the two run each round at about the same moment. It stops early
// once budget has passed (on a loaded machine the two threads wait out
// each other's time slices) and returns how many rounds both completed.
func Lockstep(rounds int, budget time.Duration, a, b func(i int)) int {
	var readyA, readyB atomic.Int64
	var stop atomic.Bool
	defer time.AfterFunc(budget, func() { stop.Store(true) }).Stop()
	side := func(mine, theirs *atomic.Int64, round func(i int)) func() {
		return func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for i := range rounds {
				mine.Store(int64(i + 1))
				for theirs.Load() < int64(i+1) {
					if stop.Load() {
						return
					}
				}
				round(i)
			}
			mine.Store(int64(rounds + 1))
		}
	}
	var wg sync.WaitGroup
	wg.Go(side(&readyA, &readyB, a))
	wg.Go(side(&readyB, &readyA, b))
	wg.Wait()
	// A side's mark is i+1 while it waits at round i, and rounds+1 once
	// it has run them all; it leaves only while waiting: it completed
	// mark-1 rounds.
	return int(min(readyA.Load(), readyB.Load())) - 1
}
