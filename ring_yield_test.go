package shm_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestRingSpinYieldsAfterWake: a wait that spins just after this process
// woke a sleeping peer yields its CPU, so that the peer, which the kernel
// may have queued on it, runs; a spin with no wake-up before it makes no
// such system call. The echo answers only after the waiter's first yield,
// so the test passes only if the waiter yields.
func TestRingSpinYieldsAfterWake(t *testing.T) {
	if !shm.RingSpins() {
		t.Skipf("%d CPU: waiting calls do not spin, so none yields", runtime.NumCPU())
	}
	if !shm.RingCanYield() {
		t.Skipf("a spin does not yield on %s (no sched_yield system call from Go there)", runtime.GOOS)
	}
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

	// No wake-up before: the spin of a receive that times out yields not.
	shm.ForgetRingWake()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := pong.Receive(ctx, nil)
	cancel()
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
