package shm

import (
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/fence"
	"github.com/shmkit/shm/internal/litmus"
)

// TestLeaseQuiesceOrders is the store-buffering test of the lease
// (ring_lease.go): in each round an operation enters (its busy store,
// plain where the heavy fence exists) and loads the lease's stopped
// flag; a quiescer sets the flag and asks whether the lease is idle. An
// operation that saw no flag while the quiescer saw it idle would touch
// the memory after a Close had gone on to unmap it. With the fence's
// heavy side removed from idle the test fails (checked).
func TestLeaseQuiesceOrders(t *testing.T) {
	if err := fence.Err(); err != nil {
		t.Skipf("no heavy fence, and the lease's stores are atomic: %v", err)
	}
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("the store-buffering test needs two CPUs")
	}
	const rounds, budget = 200_000, 5 * time.Second
	type padded struct {
		l lease
		_ [64]byte
	}
	ls := make([]padded, rounds)
	sawStop, sawIdle := make([]bool, rounds), make([]bool, rounds)
	ran := litmus.Lockstep(rounds, budget, func(i int) { // an operation
		ls[i].l.enter()
		sawStop[i] = ls[i].l.stopped.Load()
	}, func(i int) { // a Close
		ls[i].l.stopped.Store(true)
		sawIdle[i] = ls[i].l.idle()
	})
	bad := 0
	for i := range ran {
		if !sawStop[i] && sawIdle[i] {
			bad++
		}
	}
	t.Logf("%d rounds", ran)
	if bad != 0 {
		t.Fatalf("%d of %d rounds: an operation saw no stop while the quiescer saw the lease idle", bad, ran)
	}
}
