package futex

import (
	"sync/atomic"
	"time"
)

// Yielding after a wake-up. A process that wakes a sleeping peer and then
// spins for the peer's answer may be holding the very CPU the kernel
// queued the peer on: the peer waits for the spin to end, and the waker,
// its spin spent, sleeps and must be woken in turn. The same holds the
// other way round: a woken process that answers and then spins for the
// next request may hold the CPU its waker waits on. So callers that spin
// (the ring's waits, the locks' acquisitions) yield their CPU while
// [RecentWakes] says a wake-up involving this process happened moments
// ago: one it made (NoteWake, WakeSleepers) or one that ended its sleep
// (NoteWoken, Wait). With nothing else to run on the CPU a yield returns
// at once.
//
// Yield is a system call; it is only worth making after a wake-up, which
// was one, so a spin between two awake processes makes none.

// wokeAt and wokenAt are when this process last woke a sleeper
// (NoteWake) and was woken (NoteWoken), in ns since epoch; 0 for never.
// wokeAt is negated once a spin has been told of it (RecentWakes).
var wokeAt, wokenAt atomic.Int64

var epoch = time.Now()

// NoteWake records that this process has just woken a sleeper: a
// process asleep in the kernel (in Wait, where Sleeps holds, or in a wait
// of another kind) that its waker knew to be there (a bit or count in the
// word said so), not a Wake issued just in case.
func NoteWake() { note(&wokeAt) }

// NoteWoken records that this process has just returned from a sleep in
// the kernel. Wait records its own returns; callers that sleep otherwise
// (the windows locks) call it.
func NoteWoken() { note(&wokenAt) }

func note(at *atomic.Int64) {
	if CanYield {
		at.Store(max(int64(time.Since(epoch)), 1))
	}
}

// RecentWakes tells a spin starting at now (a reading of time.Now, which
// the spin takes anyway) how to yield after a wake-up.
// first: this process woke a sleeper (NoteWake) less than d ago, and no
// spin has yet been told so since; the caller yields at once, since the
// peer is runnable now. recent: this process woke a sleeper or returned
// from a sleep less than d ago; the caller yields at its time checks. Both
// are always false where Yield does nothing (see CanYield).
//
// Only the first spin after a wake-up yields at its start: in two
// processes that keep each other awake, a wake-up now and then opens a
// window, and a yield at the start of every round in it would add a
// system call to each, slowing both spins until they fail and sleep,
// which makes more wake-ups.
func RecentWakes(now time.Time, d time.Duration) (first, recent bool) {
	if !CanYield {
		return false, false
	}
	at := int64(now.Sub(epoch))
	woke := wokeAt.Load() // negative: a spin was told "first"
	within := func(t int64) bool { return t != 0 && at-t < int64(d) }
	first = woke > 0 && within(woke) && wokeAt.CompareAndSwap(woke, -woke)
	return first, within(max(woke, -woke)) || within(wokenAt.Load())
}
