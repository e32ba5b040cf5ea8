package shm

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/futex"
	"github.com/shmkit/shm/internal/lock"
)

// Sleep slices. A waiter sleeps at most this long before it looks again
// whether the peer it waits for is alive, so these bound how long a death
// goes unnoticed, and how often an idle waiter wakes up.
const (
	// ringStuckSlice: the receiver waits on a record claimed and not yet
	// committed.
	ringStuckSlice = 20 * time.Millisecond
)

// Variables only so that a test (export_ring_test.go) can make them long
// enough that only a wake-up ends the wait.
var (
	// ringFullSlice: a sender waits for space.
	ringFullSlice = 50 * time.Millisecond
	// ringIdleSlice: the receiver waits on an empty ring; it checks that
	// a sender is still alive (else io.EOF). Each wake-up of a blocked
	// Go thread costs about 0.4 ms of CPU across the runtime's threads on
	// the reference VM (sysmon wakes, rechecks GOMAXPROCS, parks again),
	// so an idle receiver wakes only every five seconds: 0.009% of a
	// CPU, where once a second gave 0.043%. CloseSend ends the wait at
	// once; only the end after the last sender's death waits for it.
	ringIdleSlice = 5 * time.Second
)

// Spinning before sleeping, as the mutex does (internal/lock/spin.go): a
// bounded spin whose budget follows how long recent successful spins
// took, so that two processes handing messages back and forth keep each
// other awake and make no system call. The budget is at least
// ringMinSpin: in a ping-pong the estimate settles near the round trip
// (about 1 µs), and any hiccup longer than the budget (an interrupt, a
// preemption) turned a round into a sleep and a wake-up of 15-20 µs. With
// a 2 µs minimum that happened in over 1% of the rounds of most `shm
// bench` runs at far placement (p99 3-19 µs in 5 of 6 runs); with 10 µs
// in none (p99 1.2-1.5 µs, 6 runs; BENCHMARKS §7). It costs a wait that
// ends asleep 8 µs more of spinning.
const (
	ringMinSpin      = 10 * time.Microsecond
	ringMaxSpin      = 50 * time.Microsecond
	ringExploreEvery = 16
	ringChecksPerNow = 64
)

var ringSpinning = runtime.NumCPU() > 1

type spinEstimate struct {
	avg   atomic.Int64
	waits atomic.Uint32
	clock lock.LookClock // a short spin's time without a clock read
}

func (s *spinEstimate) budget() time.Duration {
	avg := time.Duration(s.avg.Load())
	if s.waits.Add(1)%ringExploreEvery == 0 {
		return ringMaxSpin
	}
	return min(2*avg+ringMinSpin, ringMaxSpin)
}

func (s *spinEstimate) record(ok bool, took time.Duration) {
	avg := time.Duration(s.avg.Load())
	if ok {
		s.avg.Store(int64(avg + (took-avg)/8))
	} else {
		s.avg.Store(int64(avg - avg/8))
	}
}

// spinBudget returns how long a waiting call whose first look asked to
// sleep up to slice spins, and false when it does not spin (a slice of 0,
// SetSpin(0), or a single CPU).
func (r *Ring) spinBudget(spin *spinEstimate, slice time.Duration) (time.Duration, bool) {
	if !ringSpinning || slice <= 0 {
		return 0, false
	}
	switch mode := r.spinMode.Load(); {
	case mode < 0:
		return 0, false
	case mode > 0:
		return time.Duration(mode), true
	}
	return spin.budget(), true
}

// ringSpinHook, when set (by tests only), runs when a waiting call starts
// to spin.
var ringSpinHook func()

// ringGraceHook, when set (by tests only), runs when a waiting call with a
// grace has set its sleeps bit and found nothing, before its grace.
var ringGraceHook func()

// A wake word holds in bit 0 "a waiter sleeps on this word" and in the
// other bits a sequence that every wake-up advances, so that a waiter
// that read the word before a wake-up does not sleep through it.

// prepareSleep sets the sleeps bit and returns the value to sleep on;
// set reports that this call set the bit (it was clear).
func prepareSleep(w *uint32) (v uint32, set bool) {
	for {
		v := atomic.LoadUint32(w)
		if v&1 != 0 {
			return v, false
		}
		if atomic.CompareAndSwapUint32(w, v, v|1) {
			return v | 1, true
		}
	}
}

// wake wakes the sleepers of w if the sleeps bit is set (or always, with
// force): it clears the bit and advances the sequence, then makes the
// system call. Without the bit it costs one load.
func (r ringMem) wake(w *uint32, force bool) {
	if !force && atomic.LoadUint32(w)&1 == 0 {
		return // inlined: the per-message cost when no one sleeps
	}
	r.wakeSlow(w, force)
}

func (r ringMem) wakeSlow(w *uint32, force bool) {
	for range 4 {
		v := atomic.LoadUint32(w)
		if v&1 == 0 && !force {
			return
		}
		if atomic.CompareAndSwapUint32(w, v, (v|1)+1) {
			_ = futex.WakeSleepers(w, 0) // the next spin yields (ring_yield.go)
			return
		}
	}
	atomic.AddUint32(w, 2)
	_ = futex.Wake(w, 0)
}

// kick advances w's sequence, keeping the sleeps bit, and wakes its
// sleepers: a waiter about to sleep on the old value returns at once.
func kick(w *uint32) {
	atomic.AddUint32(w, 2)
	_ = futex.Wake(w, 0)
}

func (r ringMem) wakeBoth() {
	kick(r.u32(ringOffRxWake))
	kick(r.u32(ringOffTxWake))
}

// A poll function tries an operation once, with the mapping held. It
// returns done (with err possibly set: the operation ends), or how long
// to sleep at most before trying again with probe set (the peer may have
// died). A slice of 0 means "try again at once". spinning says that the
// call is one of a spin's many, or a waiting call's first look: it may
// skip what only a sleep needs (the receiver reads neither the tail nor
// the senders' slots, lines the senders write, which it would take from
// them at each turn; the look before sleeping does both).
type pollFunc func(probe, spinning bool) (done bool, slice time.Duration, err error)

// await runs poll until it is done, spinning briefly and then sleeping
// on the wake word w, until ctx ends or the handle closes. After it has
// set w's sleeps bit and found nothing, it keeps looking for grace before
// it sleeps (ring_publish.go). With pause set, the spin pauses between
// its looks, from pause doubling up to ringPauseMax (ring_pause.go). The
// caller holds one of the handle's gates, which keeps the memory mapped.
func (r ringMem) await(ctx context.Context, op string, w *uint32, grace, pause time.Duration, spin *spinEstimate, stop *atomic.Bool, poll pollFunc) error {
	// The first look is a spin's when spinning is on: a full look comes
	// before every sleep.
	done, slice, err := poll(false, ringSpinning)
	if done {
		return err
	}
	if err := ctx.Err(); err != nil {
		return r.err(op, err)
	}
	if budget, ok := r.spinBudget(spin, slice); ok {
		if ringSpinHook != nil {
			ringSpinHook()
		}
		// A spin lasts no longer than the poll's slice, which bounds how
		// long a peer's death goes unnoticed, and ends at a wake-up or
		// kick of w (a CloseSend, a Close): what only the full look
		// before sleeping sees may have changed.
		budget = min(budget, slice)
		seq := atomic.LoadUint32(w)
		start := time.Now()
		// Just after a wake-up, the spin lets the other side run here
		// (ring_yield.go).
		yieldNow, yield := spinYields(start)
		if yieldNow {
			spinYield()
		}
		procs := 0 // GOMAXPROCS, read at the first check that needs it
		for i := 1; ; i++ {
			if ringLookHook != nil {
				ringLookHook()
			}
			if done, _, err = poll(false, true); done {
				spin.record(true, spin.clock.Took(i, ringChecksPerNow, start))
				return err
			}
			if pause > 0 {
				ringPause(pause)
				pause = min(2*pause, ringPauseMax)
			}
			if pause > 0 || i%ringChecksPerNow == 0 {
				el := time.Since(start)
				spin.clock.Looked(i, el)
				if el >= budget || ctx.Err() != nil || stop.Load() || r.closed.Load() || r.leaseStopped() || atomic.LoadUint32(w) != seq {
					spin.record(false, 0)
					break
				}
				if yield {
					spinYield()
				}
				spinGosched(yieldNow, &procs)
			}
		}
	}
	if ctx.Done() != nil {
		defer kickOnDone(ctx, w)()
	}
	deadline, hasDeadline := ctx.Deadline()
	probe := false
	for {
		v, set := prepareSleep(w)
		if done, slice, err = poll(probe, false); done {
			return err
		}
		probe = false
		if r.closed.Load() || stop.Load() || r.leaseStopped() {
			return r.err(op, ErrRingClosed)
		}
		if err := ctx.Err(); err != nil {
			return r.err(op, err)
		}
		if hasDeadline && !time.Now().Before(deadline) {
			return r.err(op, context.DeadlineExceeded)
		}
		if slice == 0 {
			continue
		}
		if set && grace > 0 && ringSpinning {
			if ringGraceHook != nil {
				ringGraceHook()
			}
			if done, err := r.graceLook(w, v, grace, poll); done {
				return err
			}
		}
		until := time.Now().Add(slice)
		if hasDeadline && deadline.Before(until) {
			until = deadline
		}
		werr := r.sleep(w, v, until)
		if r.reg.Err() != nil {
			return r.err(op, ErrRingClosed)
		}
		if werr != nil && !errors.Is(werr, futex.ErrTimeout) {
			return r.err(op, werr)
		}
		// A slice that ran out (or the deadline) ends in a probe of the
		// peer, so that even short waits notice deaths.
		probe = werr != nil
	}
}

// leaseStopped reports whether the operation runs for a RingSender or
// RingReceiver that is being closed (ring_lease.go).
func (r ringMem) leaseStopped() bool { return r.lease != nil && r.lease.stopped.Load() }

// graceLook looks at the ring cheaply, as a spin does, for up to grace
// or until w no longer holds v (a wake-up, a kick): a record whose
// sender read w before the sleeps bit was set may become visible only
// now (ring_publish.go). It reports whether poll is done, and with what
// error.
func (r ringMem) graceLook(w *uint32, v uint32, grace time.Duration, poll pollFunc) (bool, error) {
	start := time.Now()
	for i := 1; ; i++ {
		if done, _, err := poll(false, true); done {
			return true, err
		}
		if i%16 == 0 && (atomic.LoadUint32(w) != v || time.Since(start) >= grace) {
			return false, nil
		}
	}
}

// ringPollStep bounds each sleep where waits poll: Mapping.Close's wake-up
// does not reach a polling sleeper, which notices Close between steps.
const ringPollStep = 5 * time.Millisecond

// sleep waits on w while it holds v, until the time until, registered
// with the mapping's region as well (Ring.Close, which Mapping.Close
// calls first, kicks w).
func (r ringMem) sleep(w *uint32, v uint32, until time.Time) error {
	defer r.reg.WakeOnClose(w)()
	for {
		step := until
		if futex.Kind() == "poll" {
			if s := time.Now().Add(ringPollStep); s.Before(until) {
				step = s
			}
		}
		err := futex.Wait(w, v, step)
		if !errors.Is(err, futex.ErrTimeout) || step.Equal(until) || r.reg.Err() != nil || atomic.LoadUint32(w) != v {
			return err
		}
	}
}

// kickOnDone kicks w when ctx is done, so that a waiter about to sleep on
// it returns at once. The returned stop cancels that and waits for a kick
// in progress: after it, nothing touches w on the waiter's behalf, so the
// operation may leave the mapping's hold.
func kickOnDone(ctx context.Context, w *uint32) (stop func()) {
	done := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(done)
		kick(w)
	})
	return func() {
		if !cancel() {
			<-done
		}
	}
}
