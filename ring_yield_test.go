package shm_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/futex"
)

// TestRingSpinYieldsAfterWake: a wait that spins just after this process
// woke a sleeping peer yields its CPU, so that the peer, which the kernel
// may have queued on it, runs; a spin with no recent wake-up makes no
// such system call. The echo answers only after the waiter's first yield,
// so the test passes only if the waiter yields.
func TestRingSpinYieldsAfterWake(t *testing.T) {
	needRingYield(t)
	defer shm.SetRingYieldWindow(time.Minute)() // past any preemption of this test
	n := shm.RingSize(64, 8)
	_, m := newAnonMapping(t, 2*n)
	// This side sends on ping and receives on pong; the echo the other
	// way round, and sleeps in the kernel at once.
	ping, pong := openRing(t, m, 0, n), openRing(t, m, n, n)
	echoIn, echoOut := openRing(t, m, 0, n), openRing(t, m, n, n)
	echoIn.SetSpin(0)
	if _, _, err := pong.TryReceive(nil); err != nil {
		t.Fatal(err)
	}
	var yields atomic.Int32
	yielded := make(chan struct{})
	var once sync.Once
	defer shm.SetRingYieldHook(func() {
		yields.Add(1)
		once.Do(func() { close(yielded) })
	})()

	// No recent wake-up (the window closed): the spin of a receive that
	// times out yields not.
	closeWindow := shm.SetRingYieldWindow(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := pong.Receive(ctx, nil)
	cancel()
	closeWindow()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("receive on an empty ring: %v, want the deadline", err)
	}
	if y := yields.Load(); y != 0 {
		t.Fatalf("%d yields in a spin with no wake-up before it", y)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	echoed := make(chan error, 1)
	go func() {
		msg, err := echoIn.Receive(ctx, nil)
		if err == nil {
			select {
			case <-yielded:
				err = echoOut.Send(ctx, msg)
			case <-ctx.Done():
				err = errors.New("the waiter never yielded")
			}
		}
		echoed <- err
	}()
	for !shm.RingReceiverSleeps(echoIn) {
		if ctx.Err() != nil {
			t.Fatal("the echo never fell asleep")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := ping.Send(ctx, []byte("ping")); err != nil { // wakes the echo
		t.Fatal(err)
	}
	got, err := pong.Receive(ctx, nil)
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo: %q, %v (echo side: %v)", got, err, <-echoed)
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
	if yields.Load() == 0 {
		t.Fatal("no yield")
	}
}

// TestRingSpinYieldsAtChecks: a spin in the window of a wake-up that is
// not the first spin after it yields at its time checks, not at its
// start. Here a receive is woken (in one process, so this process both
// woke and was woken: internal/futex's yield_test.go tells the two apart)
// and its next spin, on an empty ring, must yield.
func TestRingSpinYieldsAtChecks(t *testing.T) {
	needRingYield(t)
	defer shm.SetRingYieldWindow(time.Minute)() // past any preemption of this test
	n := shm.RingSize(64, 8)
	_, m := newAnonMapping(t, 2*n)
	in, out := openRing(t, m, 0, n), openRing(t, m, 0, n)
	idle, idleIn := openRing(t, m, n, n), openRing(t, m, n, n)
	in.SetSpin(0) // the first receive sleeps at once
	// The idle receive spins until its deadline: a spin whose budget ran
	// out by its first time check (a slow look under -race) would end
	// there, before that check's yield.
	idle.SetSpin(time.Minute)
	if _, _, err := idle.TryReceive(nil); err != nil {
		t.Fatal(err)
	}
	_ = idleIn // a live sender, so that the idle receive waits

	var yields atomic.Int32
	defer shm.SetRingYieldHook(func() { yields.Add(1) })()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spun := make(chan error, 1)
	sent := make(chan struct{}) // the send, and its note of the wake-up, are done
	go func() {
		if _, err := in.Receive(ctx, nil); err != nil {
			spun <- err
			return
		}
		// Woken. Take away the waker's first-spin yield, then spin on an
		// empty ring until a short deadline.
		<-sent
		futex.RecentWakes(time.Now(), time.Minute)
		before := yields.Load()
		wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer wcancel()
		if _, err := idle.Receive(wctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			spun <- fmt.Errorf("receive on an empty ring: %v, want the deadline", err)
			return
		}
		if yields.Load() == before {
			spun <- errors.New("a spin just after a wake-up did not yield")
			return
		}
		spun <- nil
	}()
	for !shm.RingReceiverSleeps(in) {
		if ctx.Err() != nil {
			t.Fatal("the receiver never fell asleep")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := out.Send(ctx, []byte("wake")); err != nil {
		t.Fatal(err)
	}
	close(sent)
	if err := <-spun; err != nil {
		t.Fatal(err)
	}
}

// needRingYield skips a test of the yield after a wake-up where a ring's
// spin does not yield, saying why.
func needRingYield(t *testing.T) {
	t.Helper()
	if !shm.RingSpins() {
		t.Skipf("%d CPU: waiting calls do not spin, so none yields", runtime.NumCPU())
	}
	if !shm.RingCanYield() {
		t.Skipf("a spin does not yield here (%s, waits: %s): no wake-up makes a sleeper runnable", runtime.GOOS, futex.Kind())
	}
}

// TestRingFirstSpinNoGosched: the first spin after this process woke a
// sleeper waits for the sleeper's answer and makes no runtime.Gosched at
// its time checks while the process has more than one P (the thread a
// Gosched wakes delayed the answer's sight: ring_yield.go). A later spin
// in the same window makes them, and so does the first spin with one P,
// whose Gosched may be what lets the awaited goroutine run.
func TestRingFirstSpinNoGosched(t *testing.T) {
	needRingYield(t)
	defer shm.SetRingYieldWindow(time.Minute)() // past any preemption of this test
	n := shm.RingSize(64, 8)
	_, m := newAnonMapping(t, n)
	rx := openRing(t, m, 0, n)
	rx.SetSpin(time.Minute) // each receive below spins until its deadline
	if _, _, err := rx.TryReceive(nil); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	defer shm.SetRingGoschedHook(func() { calls.Add(1) })()
	// spin runs one receive on the empty ring for 50 ms, the first spin
	// after a wake-up this process made or not, and returns its Goscheds.
	spin := func(first bool) int32 {
		t.Helper()
		if first {
			futex.NoteWake()
		} else {
			futex.RecentWakes(time.Now(), time.Minute) // takes "first" away
		}
		calls.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := rx.Receive(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("receive on an empty ring: %v, want the deadline", err)
		}
		return calls.Load()
	}
	procs := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(procs)
	if c := spin(true); c != 0 {
		t.Errorf("the first spin after a wake-up made %d Goscheds with GOMAXPROCS %d, want none", c, runtime.GOMAXPROCS(0))
	}
	if c := spin(false); c == 0 {
		t.Errorf("a later spin in the window made no Gosched")
	}
	runtime.GOMAXPROCS(1)
	if c := spin(true); c == 0 {
		t.Errorf("the first spin after a wake-up made no Gosched with GOMAXPROCS 1")
	}
}
