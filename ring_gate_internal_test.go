package shm

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestGateExcludes: goroutines that take a gate many times each never
// hold it together, and every one gets through (the race detector
// watches the counter, which only the gate guards).
func TestGateExcludes(t *testing.T) {
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
	if g.held.Load() != 0 || g.nwait.Load() != 0 {
		t.Fatalf("held %d, %d waiting after the last release", g.held.Load(), g.nwait.Load())
	}
}
