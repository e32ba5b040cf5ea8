//go:build linux || freebsd || netbsd

package futex

import (
	"errors"
	"testing"
	"time"
)

// TestFarDeadlineFakeClock: the kernel is given at most maxAbsWait, so its
// ETIMEDOUT for a deadline further ahead is not a timeout until the clock
// reaches the deadline.
func TestFarDeadlineFakeClock(t *testing.T) {
	defer func(c func() time.Time) { clock = c }(clock)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	deadline := start.Add(48 * time.Hour)
	for _, c := range []struct {
		now  time.Time
		want error
	}{
		{start.Add(maxAbsWait), nil}, // the capped wait ended
		{deadline.Add(-time.Nanosecond), nil},
		{deadline, ErrTimeout},
		{deadline.Add(time.Hour), ErrTimeout},
	} {
		clock = func() time.Time { return c.now }
		if err := timedOut(deadline); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("ETIMEDOUT at %v before the deadline: %v, want %v", deadline.Sub(c.now), err, c.want)
		}
	}
	clock = func() time.Time { return start }
	if err := timedOut(time.Time{}); err != nil {
		t.Errorf("ETIMEDOUT without a deadline: %v, want a spurious return", err)
	}
}

// TestFarDeadlineKernel waits on the real kernel primitive with the cap
// shortened to a millisecond and a deadline an hour ahead: the kernel's
// ETIMEDOUT at the cap must come back as a spurious return, not as
// ErrTimeout.
func TestFarDeadlineKernel(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("no OS wait/wake here: %v", err)
	}
	defer func(d time.Duration) { maxAbsWait = d }(maxAbsWait)
	maxAbsWait = time.Millisecond
	var w uint32
	for range 3 {
		if err := nativeWait(&w, 0, time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("Wait with a deadline an hour ahead, kernel wait capped at %v: %v, want nil (spurious)", maxAbsWait, err)
		}
	}
	// A deadline within the cap still times out.
	maxAbsWait = time.Hour
	err := nativeWait(&w, 0, time.Now().Add(time.Millisecond))
	for err == nil { // spurious returns are allowed; the deadline is near
		err = nativeWait(&w, 0, time.Now().Add(-time.Nanosecond))
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait past a near deadline: %v, want ErrTimeout", err)
	}
}
