package lock

import (
	"runtime"
	"testing"
)

// TestSpinGosched: a spin's check yields to the process's goroutines
// only with one P, reads GOMAXPROCS once per spin, and the yield is a
// real runtime.Gosched.
func TestSpinGosched(t *testing.T) {
	calls := 0
	defer func(old func()) { gosched = old }(gosched)
	gosched = func() { calls++ }
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct{ maxprocs, want int }{{1, 3}, {2, 0}, {4, 0}} {
		runtime.GOMAXPROCS(c.maxprocs)
		calls = 0
		procs := 0
		for range 3 {
			spinGosched(&procs)
		}
		if calls != c.want || procs != c.maxprocs {
			t.Fatalf("GOMAXPROCS %d: %d Gosched calls in 3 checks, procs %d; want %d, %d", c.maxprocs, calls, procs, c.want, c.maxprocs)
		}
	}
	// The value read at a spin's first check holds for the spin.
	runtime.GOMAXPROCS(2)
	calls, procs := 0, 1
	spinGosched(&procs)
	if calls != 1 {
		t.Fatalf("procs 1 read earlier in the spin: %d calls, want 1", calls)
	}
}

// TestSpinGoschedRunsOthers: with one P, SpinGosched lets a runnable
// goroutine run (the real runtime.Gosched, not the counter above).
func TestSpinGoschedRunsOthers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ran := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		close(ran)
	}()
	procs := 0
	// The goroutine is runnable but the only P is this one: it runs
	// only when this goroutine gives the P up.
	for i := 0; ; i++ {
		select {
		case <-ran:
			// At the first check mostly; the scheduler takes the
			// global run queue, where Gosched put this goroutine,
			// first at one pick in 61.
			if i > 4 {
				t.Fatalf("the goroutine ran after %d checks, want within the first few", i)
			}
			<-started
			return
		default:
		}
		if i > 1000 {
			t.Fatal("the goroutine did not run in 1000 checks")
		}
		spinGosched(&procs)
	}
}
