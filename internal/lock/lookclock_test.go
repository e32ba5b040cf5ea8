package lock

import (
	"testing"
	"time"
)

// TestLookClock: a spin that succeeds before its first time check is
// reckoned from what looks took at the last check, without a clock read;
// one that ran past a check, by the clock.
func TestLookClock(t *testing.T) {
	const checks = 64 // the ring's spin checks every 64 looks
	var c LookClock
	start := time.Now()
	if got := c.Took(10, checks, start); got != 0 {
		t.Fatalf("before any check: took %v, want 0", got)
	}
	c.Looked(checks, time.Duration(checks)*25*time.Nanosecond) // 25 ns a look
	if got, want := c.Took(10, checks, start), 250*time.Nanosecond; got != want {
		t.Fatalf("10 looks at 25 ns: took %v, want %v", got, want)
	}
	// 3333 ps a look: fractions of a ns are kept (30 looks, 99 990 ps).
	c.Looked(3, 10*time.Nanosecond)
	if got, want := c.Took(30, checks, start), 99*time.Nanosecond; got != want {
		t.Fatalf("30 looks at 3.33 ns: took %v, want %v", got, want)
	}
	// Past a check, the clock: a start an hour ago reads as an hour.
	if got := c.Took(checks, checks, start.Add(-time.Hour)); got < time.Hour {
		t.Fatalf("past a check: took %v, want the clock's (at least an hour)", got)
	}
}
