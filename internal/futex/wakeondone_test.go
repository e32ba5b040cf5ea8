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
