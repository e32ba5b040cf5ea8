package lock

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

func init() {
	helpers["producer"] = producerChild
	helpers["consumer"] = consumerChild
	helpers["pong"] = pongChild
	helpers["stepconsumer"] = stepConsumerChild
}

// producerChild posts args[0] tokens on semaphore A, counting each in
// "produced" before making it available.
func producerChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	mem, _ := childMem()
	s := childSem(mem, offSemA)
	produced := u64(mem, offProduced)
	for i := range n {
		atomic.AddUint64(produced, 1)
		if err := s.Post(); err != nil {
			fail("Post: %v", err)
		}
		if i%64 == 0 {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		}
	}
	return 0
}

// consumerChild takes args[0] tokens from semaphore A. With args[1] ==
// "impatient" each Wait has a random deadline of 0-2 ms and is retried
// when it passes, so waiters give up constantly while others sleep.
func consumerChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	impatient := len(args) > 1 && args[1] == "impatient"
	mem, _ := childMem()
	s := childSem(mem, offSemA)
	produced, consumed := u64(mem, offProduced), u64(mem, offConsumed)
	overall, cancel := ctxFor(2 * time.Minute)
	defer cancel()
	gaveUp := 0
	for got := 0; got < n; {
		ctx, cancel := overall, context.CancelFunc(func() {})
		if impatient {
			ctx, cancel = context.WithTimeout(overall, time.Duration(rand.IntN(2000))*time.Microsecond)
		}
		err := s.Wait(ctx)
		cancel()
		if err != nil {
			if impatient && overall.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				gaveUp++
				continue
			}
			fail("Wait after %d tokens: %v", got, err)
		}
		got++
		// A token taken before it was produced would be a duplicate.
		if c := atomic.AddUint64(consumed, 1); c > atomic.LoadUint64(produced) {
			atomic.AddUint32(u32(mem, offErrors), 1)
		}
	}
	if impatient {
		say("gave up " + strconv.Itoa(gaveUp))
	}
	return 0
}

// TestSemaphoreProducersConsumers: no token lost (every consumer finishes)
// or duplicated (never more consumed than produced, value 0 at the end),
// with one consumer constantly giving up mid-wait.
func TestSemaphoreProducersConsumers(t *testing.T) {
	both(t, func(t *testing.T) {
		const producers, per = 3, 4000
		const total = producers * per
		f, mem := sharedMem(t)
		var kids []*child
		for _, c := range []struct{ n, mode string }{
			{strconv.Itoa(total / 3), "patient"},
			{strconv.Itoa(total / 3), "patient"},
			{strconv.Itoa(total - 2*(total/3)), "impatient"},
		} {
			kids = append(kids, startChild(t, f, "consumer", c.n, c.mode))
		}
		time.Sleep(20 * time.Millisecond) // let consumers fall asleep first
		for range producers {
			kids = append(kids, startChild(t, f, "producer", strconv.Itoa(per)))
		}
		line, _ := kids[2].out.ReadString('\n')
		t.Logf("impatient consumer: %s", line)
		for _, c := range kids {
			c.wait(t)
		}
		if e := *u32(mem, offErrors); e != 0 {
			t.Fatalf("%d tokens consumed before being produced", e)
		}
		s := childSem(mem, offSemA)
		if value(s) != 0 || s.Waiters() != 0 || *u64(mem, offConsumed) != total {
			t.Fatalf("at the end: value %d, waiters %d, consumed %d of %d", value(s), s.Waiters(), *u64(mem, offConsumed), total)
		}
	})
}

// pongChild answers args[0] pings: wait on A, post B.
func pongChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	mem, _ := childMem()
	a, b := childSem(mem, offSemA), childSem(mem, offSemB)
	ctx, cancel := ctxFor(5 * time.Minute)
	defer cancel()
	say("ready")
	for range n {
		if err := a.Wait(ctx); err != nil {
			fail("Wait: %v", err)
		}
		if err := b.Post(); err != nil {
			fail("Post: %v", err)
		}
	}
	return 0
}

// pingPong runs n round trips with a pong child and returns the time.
// In a benchmark, only the round trips run with the timer on.
func pingPong(t testing.TB, n int) time.Duration {
	timing(t, false)
	defer timing(t, false)
	f, mem := sharedMem(t)
	c := startChild(t, f, "pong", strconv.Itoa(n))
	c.expect(t, "ready")
	a, b := childSem(mem, offSemA), childSem(mem, offSemB)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	timing(t, true)
	start := time.Now()
	for i := range n {
		if err := a.Post(); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	d := time.Since(start)
	timing(t, false)
	c.wait(t)
	if value(a) != 0 || value(b) != 0 {
		t.Fatalf("after ping-pong: values %d, %d", value(a), value(b))
	}
	return d
}

// TestPingPong: 100 000 round trips between two processes over two
// semaphores.
func TestPingPong(t *testing.T) {
	both(t, func(t *testing.T) {
		const n = 100_000
		d := pingPong(t, n)
		t.Logf("%d round trips in %v: %v each (%s)", n, d, d/n, futex.Kind())
	})
}

// stepConsumerChild takes one token from semaphore A each time the flag
// word reaches the next round number, counting it in "consumed".
func stepConsumerChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	mem, _ := childMem()
	s := childSem(mem, offSemA)
	ctx, cancel := ctxFor(2 * time.Minute)
	defer cancel()
	say("ready")
	for i := 1; i <= n; i++ {
		for atomic.LoadUint32(u32(mem, offFlags)) < uint32(i) {
			time.Sleep(50 * time.Microsecond)
		}
		if err := s.Wait(ctx); err != nil {
			fail("Wait %d: %v", i, err)
		}
		atomic.AddUint64(u64(mem, offConsumed), 1)
	}
	return 0
}

// TestSemaphoreCancelForwardsWake: a waiter here whose deadline passes
// just as a token is posted may consume the wake-up and give up; it must
// pass the wake-up on to the waiter sleeping in another process. Slices
// are lengthened so that a lost wake-up stalls the other process.
func TestSemaphoreCancelForwardsWake(t *testing.T) {
	both(t, func(t *testing.T) {
		const rounds = 40
		withSlices(t, time.Minute)
		f, mem := sharedMem(t)
		s := childSem(mem, offSemA)
		c := startChild(t, f, "stepconsumer", strconv.Itoa(rounds))
		c.expect(t, "ready")
		var gaveUp, took int
		var worst time.Duration
		for i := 1; i <= rounds; i++ {
			// The local waiter sleeps first, so a FIFO wake-up picks it.
			h, _ := NewSemaphore(u64(mem, offSemA))
			deadline := time.Now().Add(50 * time.Millisecond)
			res := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				defer cancel()
				res <- h.Wait(ctx)
			}()
			// On a loaded machine the goroutine may first run after its
			// deadline and give up without ever sleeping: then the round
			// only checks the other process's hand-off.
			var early error
			gone := false
			waitFor(t, func() bool {
				if s.Waiters() == 1 {
					return true
				}
				select {
				case early = <-res:
					gone = true
					return true
				default:
					return false
				}
			})
			atomic.StoreUint32(u32(mem, offFlags), uint32(i))
			waitFor(t, func() bool { return s.Waiters() == 2 || time.Now().After(deadline) })
			// Post around the local deadline: -200 us .. +200 us.
			time.Sleep(time.Until(deadline) + time.Duration(rand.IntN(400)-200)*time.Microsecond)
			start := time.Now()
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			if !gone {
				early = <-res
			}
			if err := early; err == nil {
				took++
				if err := s.Post(); err != nil { // the local waiter won: post the child's
					t.Fatal(err)
				}
			} else if errors.Is(err, context.DeadlineExceeded) {
				gaveUp++
			} else {
				t.Fatal(err)
			}
			for atomic.LoadUint64(u64(mem, offConsumed)) < uint64(i) {
				if time.Since(start) > time.Minute {
					t.Fatalf("round %d: the other process did not get its token in a minute: a wake-up was lost", i)
				}
				time.Sleep(20 * time.Microsecond)
			}
			worst = max(worst, time.Since(start))
		}
		c.wait(t)
		t.Logf("local waiter gave up %d times, took the token %d times; worst hand-off %v (%s)", gaveUp, took, worst, futex.Kind())
		if value(s) != 0 || s.Waiters() != 0 {
			t.Fatalf("at the end: value %d, waiters %d", value(s), s.Waiters())
		}
	})
}

// waitFor polls cond for up to a minute (a hang guard: a loaded machine
// may take seconds).
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(50 * time.Microsecond) {
		if time.Since(start) > time.Minute {
			_, file, line, _ := runtime.Caller(1)
			t.Fatalf("%s:%d: condition not reached in a minute", file, line)
		}
	}
}

// timing starts or stops the timer of a benchmark; tests ignore it.
func timing(tb testing.TB, on bool) {
	if b, ok := tb.(*testing.B); ok {
		if on {
			b.StartTimer()
		} else {
			b.StopTimer()
		}
	}
}

// TestSemaphoreWaitCanceledAnyTime: a context cancelled at any moment of
// a Wait ends it, though its sleep slice is an hour long: the end of the
// context wakes the waiter until it has left, wherever it was when the
// context ended (just before its wait, the first wake-up found nobody).
func TestSemaphoreWaitCanceledAnyTime(t *testing.T) {
	old := semSleep
	semSleep = time.Hour
	defer func() { semSleep = old }()
	var word uint64
	s, err := NewSemaphore(&word)
	if err != nil {
		t.Fatal(err)
	}
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	for i := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for range i % 17 {
				runtime.Gosched()
			}
			cancel()
		}()
		done := make(chan error, 1)
		go func() { done <- s.Wait(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: Wait: %v, want context.Canceled", i, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("round %d: Wait still sleeps a minute after its context ended", i)
		}
	}
}

// TestSemaphoreWaiterCountAtMax: a peer left the waiter count at its
// maximum. A waiter that registers keeps it there (adding wrapped it to
// zero, and a Post then woke nobody: the waiter slept its whole slice,
// here an hour). The Post comes once the waiter's thread is asleep in the
// kernel.
func TestSemaphoreWaiterCountAtMax(t *testing.T) {
	old := semSleep
	semSleep = time.Hour
	defer func() { semSleep = old }()
	word := uint64(math.MaxUint32) << 32 // value 0, waiters at the maximum
	s, err := NewSemaphore(&word)
	if err != nil {
		t.Fatal(err)
	}
	tid := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		done <- s.Wait(context.Background())
	}()
	wchan := fmt.Sprintf("/proc/self/task/%d/wchan", <-tid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(wchan)
		if err != nil {
			t.Skipf("cannot tell when the waiter sleeps: %v", err)
		}
		if strings.Contains(string(b), "futex") {
			break
		}
		if time.Now().After(deadline) {
			t.Skipf("the waiter's thread never showed a futex wait (wchan %q)", b)
		}
	}
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Post did not wake the waiter: its registration wrapped the waiter count to zero")
	}
	if w := semWaiters(atomic.LoadUint64(&word)); w != math.MaxUint32-1 && w != math.MaxUint32 {
		t.Errorf("waiter count after the waiter left: %#x", w)
	}
}
