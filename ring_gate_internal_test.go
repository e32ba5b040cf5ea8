package shm

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/fence"
)

// plainRelease waits for the registration of the heavy fence, so that
// gates let go with a plain store where they can (as they do once a ring
// has been attached), and logs which store they use.
func plainRelease(t *testing.T) {
	t.Helper()
	if err := fence.Err(); err != nil {
		t.Logf("gates let go with an atomic store: %v", err)
		return
	}
	t.Log("gates let go with a plain store (internal/fence)")
}

// TestGateExcludes: goroutines that take a gate many times each never
// hold it together, and every one gets through (the race detector
// watches the counter, which only the gate guards).
func TestGateExcludes(t *testing.T) {
	plainRelease(t)
	var g gate
	const goroutines, rounds = 8, 2000
	inside, total := 0, 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := g.acquire(context.Background(), nil); err != nil {
					t.Error(err)
					return
				}
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				total++
				inside--
				g.release()
			}
		}()
	}
	wg.Wait()
	if total != goroutines*rounds {
		t.Fatalf("%d passes, want %d", total, goroutines*rounds)
	}
}

// TestGateGiveUp: a waiter whose context ends returns its error, one
// whose done channel closes errDone; a waiter that gave up leaves no
// wake-up lost: another still gets the gate when the holder lets go.
func TestGateGiveUp(t *testing.T) {
	var g gate
	if err := g.acquire(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	byCtx, byDone, stay := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { byCtx <- g.acquire(ctx, nil) }()
	go func() { byDone <- g.acquire(context.Background(), done) }()
	go func() { stay <- g.acquire(context.Background(), nil) }()
	for g.nwait.Load() != 3 {
		time.Sleep(50 * time.Microsecond)
	}
	cancel()
	if err := <-byCtx; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter whose context ended: %v", err)
	}
	close(done)
	if err := <-byDone; !errors.Is(err, errDone) {
		t.Fatalf("the waiter whose done closed: %v", err)
	}
	g.release()
	select {
	case err := <-stay:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the last waiter never got the gate")
	}
	g.release()
	if atomic.LoadUint32(&g.held) != 0 || g.nwait.Load() != 0 {
		t.Fatalf("held %d, %d waiting after the last release", atomic.LoadUint32(&g.held), g.nwait.Load())
	}
}

// TestGateNoLostRelease: in each round a holder lets the gate go exactly
// once while a waiter comes for it, at a varying moment; the waiter must
// get the gate from that one release. A waiter that missed the release
// (the holder's plain store not yet visible to its compare-and-swap, and
// its count not yet visible to the holder's load) would wait for good.
func TestGateNoLostRelease(t *testing.T) {
	plainRelease(t)
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the holder and the waiter must run at once: GOMAXPROCS is 1")
	}
	var g gate
	rounds := 30_000
	if testing.Short() {
		rounds = 5_000
	}
	var turn atomic.Int64
	got := make(chan error)
	go func() {
		for i := range rounds {
			for turn.Load() <= int64(i) {
			}
			err := g.acquire(context.Background(), nil)
			if err == nil {
				g.release()
			}
			got <- err
		}
	}()
	stuck := time.After(2 * time.Minute)
	for i := range rounds {
		if err := g.acquire(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		turn.Store(int64(i + 1))
		for k := range i % 97 {
			spinSink.Add(int64(k)) // a varying moment, some tens of nanoseconds
		}
		g.release()
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-stuck:
			t.Fatalf("round %d of %d: the waiter never got the gate, a release was lost", i, rounds)
		}
	}
}

// spinSink keeps the holder's delay loop from being compiled away.
var spinSink atomic.Int64
