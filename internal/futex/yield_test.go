package futex

import (
	"runtime"
	"testing"
	"time"
)

// TestRecentWakes: a wake-up this process makes tells the first spin
// after it, and only that one, to yield at once, and every spin in the
// window to yield at its checks; a wake-up it had (a return from Wait
// where Wait sleeps) tells them only the latter; outside the window,
// nothing.
func TestRecentWakes(t *testing.T) {
	if !CanYield {
		if first, recent := RecentWakes(time.Now(), time.Hour); first || recent {
			t.Fatalf("RecentWakes = %v, %v where Yield does nothing", first, recent)
		}
		t.Skipf("Yield does nothing on %s (waits poll): nothing more to check", runtime.GOOS)
	}
	defer func(woke, woken int64) { wokeAt.Store(woke); wokenAt.Store(woken) }(wokeAt.Load(), wokenAt.Load())
	check := func(what string, d time.Duration, wantFirst, wantRecent bool) {
		t.Helper()
		if first, recent := RecentWakes(time.Now(), d); first != wantFirst || recent != wantRecent {
			t.Fatalf("%s: RecentWakes = %v, %v, want %v, %v", what, first, recent, wantFirst, wantRecent)
		}
	}
	wokeAt.Store(0)
	wokenAt.Store(0)
	check("never", time.Hour, false, false)

	NoteWake()
	check("closed window", 0, false, false) // and "first" is not spent
	check("after NoteWake", time.Hour, true, true)
	check("second spin", time.Hour, false, true)
	Yield() // returns

	wokeAt.Store(0)
	NoteWoken()
	check("after NoteWoken", time.Hour, false, true)
	check("after NoteWoken, closed window", 0, false, false)

	if !Sleeps() {
		t.Skipf("Wait polls here (%s): its returns note nothing", Kind())
	}
	wokenAt.Store(0)
	var word uint32 = 1
	if err := Wait(&word, 0, time.Time{}); err != nil { // the word moved: returns at once
		t.Fatal(err)
	}
	check("after Wait", time.Hour, false, true)
}
