package shm

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestCallLockExcludes: goroutines that take a callLock many times each
// never hold it together, and every one gets through (the race detector
// watches the counter, which only the lock guards).
func TestCallLockExcludes(t *testing.T) {
	var l callLock
	l.init()
	const goroutines, rounds = 8, 2000
	inside, total := 0, 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := l.lock(nil, nil); err != nil {
					t.Error(err)
					return
				}
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				total++
				inside--
				l.unlock()
			}
		}()
	}
	wg.Wait()
	if total != goroutines*rounds {
		t.Fatalf("%d passes, want %d", total, goroutines*rounds)
	}
}

// TestCallLockGiveUp: a waiter whose done closes returns giveUp's error;
// one that gave up while another waited leaves no wake-up lost: the
// other still gets the lock when the holder lets go.
func TestCallLockGiveUp(t *testing.T) {
	var l callLock
	l.init()
	if err := l.lock(nil, nil); err != nil {
		t.Fatal(err)
	}
	errGone := errors.New("gave up")
	done := make(chan struct{})
	quit := make(chan error, 1)
	go func() { quit <- l.lock(done, func() error { return errGone }) }()
	stay := make(chan error, 1)
	go func() { stay <- l.lock(nil, nil) }()
	// Both wait: the state says so once either has set it.
	for l.state.Load() != 2 {
		time.Sleep(50 * time.Microsecond)
	}
	close(done)
	if err := <-quit; err != errGone {
		t.Fatalf("the waiter that gave up: %v, want %v", err, errGone)
	}
	l.unlock()
	select {
	case err := <-stay:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the other waiter never got the lock")
	}
	l.unlock()
	// Free again, with perhaps a stale token left: taking it still works.
	if err := l.lock(nil, nil); err != nil {
		t.Fatal(err)
	}
	l.unlock()
	if s := l.state.Load(); s != 0 {
		t.Fatalf("state %d after the last unlock, want 0", s)
	}
}
