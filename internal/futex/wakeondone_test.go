package futex

import (
	"context"
	"testing"
	"time"
)

// TestWakeOnDone: cancelling the context wakes a sleeper on the word, and
// stop, called after the wake-up started, returns only once it is over.
func TestWakeOnDone(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("no OS wait/wake here: %v", err)
	}
	defer ForceFallback(forced.Load())
	ForceFallback(false)
	var word uint32
	ctx, cancel := context.WithCancel(context.Background())
	stop := WakeOnDone(ctx, &word)
	woke := make(chan error, 1)
	go func() { woke <- Wait(&word, 0, time.Time{}) }()
	// Cancel until the sleeper is woken: a wake-up that precedes its
	// sleep is lost, so keep cancelling contexts that wake the word.
	cancel()
	for {
		select {
		case err := <-woke:
			if err != nil {
				t.Fatal(err)
			}
			stop()
			stop2 := WakeOnDone(context.Background(), &word) // never done: a no-op
			stop2()
			return
		case <-time.After(time.Millisecond):
			c, cc := context.WithCancel(context.Background())
			s := WakeOnDone(c, &word)
			cc()
			s() // waits for that wake-up to finish
		}
	}
}

// TestWakeOnDoneRewakes: a waiter that enters the wait after the first
// wake-up of an ended context (it looked at the context just before the
// end) is woken too: the wake-up repeats until stop. Each round's first
// sleeper takes the first wake-up, or a later one; the second enters only
// after the first has returned, so only a repeated wake-up reaches it.
func TestWakeOnDoneRewakes(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("no OS wait/wake here: %v", err)
	}
	defer ForceFallback(forced.Load())
	ForceFallback(false)
	for round := range 50 {
		var word uint32
		ctx, cancel := context.WithCancel(context.Background())
		stop := WakeOnDone(ctx, &word)
		cancel()
		for sleeper := range 2 {
			woke := make(chan error, 1)
			go func() { woke <- Wait(&word, 0, time.Time{}) }()
			select {
			case err := <-woke:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(time.Minute):
				t.Fatalf("round %d: sleeper %d on the word of an ended context not woken in a minute", round, sleeper)
			}
		}
		stop()
		stop() // a second stop is a no-op
	}
}
