package lock

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// TestSpinYieldsAfterWake: a Wait that spins just after this process
// woke a sleeper (a Post to a semaphore with a registered waiter) yields
// its CPU, so that the woken process, which the kernel may have queued on
// it, runs; a spin with no recent wake-up makes no such system call. The
// echo answers only after the waiter's first yield, so the test passes
// only if the waiter yields.
func TestSpinYieldsAfterWake(t *testing.T) {
	if !spinning {
		t.Skipf("%d CPU: waits do not spin, so none yields", runtime.NumCPU())
	}
	if !futex.CanYield || (runtime.GOOS != "windows" && !futex.Sleeps()) {
		t.Skipf("a spin does not yield here (%s, waits: %s): no wake-up makes a sleeper runnable", runtime.GOOS, futex.Kind())
	}
	var pingWord, pongWord uint64
	ping, _ := NewSemaphore(&pingWord)
	pong, _ := NewSemaphore(&pongWord)
	var yields atomic.Int32
	yielded := make(chan struct{})
	var once sync.Once
	defer func(old func()) { yieldCPU = old }(yieldCPU)
	yieldCPU = func() {
		yields.Add(1)
		once.Do(func() { close(yielded) })
		futex.Yield()
	}
	defer func(old time.Duration) { yieldWindow = old }(yieldWindow)

	// No recent wake-up (the window closed): the spin of a Wait that
	// times out yields not.
	yieldWindow = 0
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	err := pong.Wait(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on 0: %v, want the deadline", err)
	}
	if y := yields.Load(); y != 0 {
		t.Fatalf("%d yields in a spin with no wake-up before it", y)
	}

	yieldWindow = time.Minute // past any preemption of this test
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	echoed := make(chan error, 1)
	go func() {
		err := ping.Wait(ctx)
		if err == nil {
			select {
			case <-yielded:
				err = pong.Post()
			case <-ctx.Done():
				err = errors.New("the waiter never yielded")
			}
		}
		echoed <- err
	}()
	for ping.Waiters() == 0 { // the echo is about to sleep, or asleep
		if ctx.Err() != nil {
			t.Fatal("the echo never waited")
		}
		time.Sleep(50 * time.Microsecond)
	}
	if err := ping.Post(); err != nil { // wakes the echo
		t.Fatal(err)
	}
	if err := pong.Wait(ctx); err != nil {
		t.Fatalf("Wait for the echo, which answers after a yield: %v", err)
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
}

// TestSpinOneP: with GOMAXPROCS 1, a spin lets the goroutine it waits for
// run at its first time checks, not after its budget or the runtime's
// preemption (10 ms).
func TestSpinOneP(t *testing.T) {
	if !spinning {
		t.Skip("one CPU: nothing spins")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// A budget of a second: under an emulator the looks before a spin's
	// first check may take longer than a budget the cap allows (qemu's
	// ppc64le on a slow host: 32 looks in over 41 µs), and a spin that
	// gives up at that check never yields the P.
	defer func(old time.Duration) { maxSpin = old }(maxSpin)
	maxSpin = time.Second
	var s spinner
	s.avg.Store(int64(time.Second))
	var set atomic.Bool
	go set.Store(true)
	looks := 0
	if !s.spin(func() bool { looks++; return set.Load() }) {
		t.Fatalf("the spin ended after %d looks without seeing the other goroutine's store", looks)
	}
	// Within a few checks: the scheduler takes the global run queue,
	// where Gosched put the spinner, first at one pick in 61, and the
	// race detector adds its own. Without the Gosched the other
	// goroutine runs only at the runtime's preemption, after millions
	// of looks.
	if looks > 8*checksPerNow {
		t.Fatalf("the spin looked %d times before the other goroutine ran; its time check every %d looks should have let it run", looks, checksPerNow)
	}
}
