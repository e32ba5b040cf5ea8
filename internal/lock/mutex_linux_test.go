package lock

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

func init() {
	helpers["counter"] = counterChild
	helpers["holder"] = holderChild
	helpers["locker"] = lockerChild
}

// counterChild increments the shared counter non-atomically under the
// mutex, from two goroutines, args[0] times each.
func counterChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	mem, f := childMem()
	m, o := childMutex(mem, f)
	defer o.Close()
	counter := u64(mem, offCounter)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			ctx, cancel := ctxFor(2 * time.Minute)
			defer cancel()
			for i := range n {
				if err := m.Lock(ctx); err != nil {
					fail("Lock: %v", err)
				}
				c := *counter // plain accesses: only the mutex protects them
				if i%16 == 0 {
					runtime.Gosched()
				}
				*counter = c + 1
				if err := m.Unlock(); err != nil {
					fail("Unlock: %v", err)
				}
			}
		})
	}
	wg.Wait()
	return 0
}

// TestMutexCounterProcesses: N processes x 2 goroutines x M increments.
func TestMutexCounterProcesses(t *testing.T) {
	both(t, func(t *testing.T) {
		const procs, per = 4, 3000
		f, mem := sharedMem(t)
		var kids []*child
		for range procs {
			kids = append(kids, startChild(t, f, "counter", strconv.Itoa(per)))
		}
		for _, c := range kids {
			c.wait(t)
		}
		if got, want := *u64(mem, offCounter), uint64(procs*2*per); got != want {
			t.Fatalf("counter = %d, want %d: mutual exclusion failed", got, want)
		}
		if w := *u32(mem, offMutex); w != 0 {
			t.Fatalf("mutex word after all unlocked = %#x", w)
		}
	})
}

// holderChild locks the mutex, says "locked", waits for flag 1, unlocks
// and says "unlocked".
func holderChild([]string) int {
	mem, f := childMem()
	m, o := childMutex(mem, f)
	defer o.Close()
	ctx, cancel := ctxFor(time.Minute)
	defer cancel()
	if err := m.Lock(ctx); err != nil {
		fail("Lock: %v", err)
	}
	say("locked")
	for atomic.LoadUint32(u32(mem, offFlags)) != 1 {
		time.Sleep(100 * time.Microsecond)
	}
	if err := m.Unlock(); err != nil {
		fail("Unlock: %v", err)
	}
	say("unlocked")
	return 0
}

// lockerChild says "waiting", locks the mutex (no deadline but a minute),
// says "got", and unlocks.
func lockerChild([]string) int {
	mem, f := childMem()
	m, o := childMutex(mem, f)
	defer o.Close()
	ctx, cancel := ctxFor(time.Minute)
	defer cancel()
	say("waiting")
	if err := m.Lock(ctx); err != nil {
		fail("Lock: %v", err)
	}
	say("got")
	if err := m.Unlock(); err != nil {
		fail("Unlock: %v", err)
	}
	return 0
}

// TestMutexCancelMidWait: waiters in this process give up (cancel,
// deadline) while the mutex is held by another process, some at the very
// moment it is released; a waiter in a third process must still get it.
func TestMutexCancelMidWait(t *testing.T) {
	both(t, func(t *testing.T) {
		withSlices(t, time.Minute) // a lost wake-up now stalls for a minute
		f, mem := sharedMem(t)
		o, err := NewFileOwner(f)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		var worst time.Duration
		for round := range 10 {
			atomic.StoreUint32(u32(mem, offFlags), 0)
			holder := startChild(t, f, "holder")
			holder.expect(t, "locked")
			other := startChild(t, f, "locker")
			other.expect(t, "waiting")

			// Three handles, so each goroutine sleeps in the kernel itself.
			var errs [3]error
			var wg sync.WaitGroup
			ctxC, cancel := context.WithCancel(context.Background())
			ctxD, cancelD := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancelD()
			dDone := make(chan struct{})
			for i, ctx := range []context.Context{ctxC, ctxD} {
				m, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
				wg.Go(func() {
					errs[i] = m.Lock(ctx)
					if errs[i] == nil {
						m.Unlock()
					}
					if i == 1 {
						close(dDone)
					}
				})
			}
			// The deadline waiter gives up while the mutex is held (not
			// after a sleep that a loaded machine may outlast).
			<-dDone
			time.Sleep(time.Duration(round) * time.Millisecond)
			// Cancel one waiter and release the mutex at the same moment.
			start := time.Now()
			atomic.StoreUint32(u32(mem, offFlags), 1)
			cancel()
			wg.Wait()
			t.Logf("round %d: cancelled waiters returned in %v", round, time.Since(start))
			for i, err := range errs[:2] {
				// Either it gave up, or it got the mutex in the race.
				if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("waiter %d: %v", i, err)
				}
			}
			if !errors.Is(errs[1], context.DeadlineExceeded) {
				t.Fatalf("waiter with a 30ms deadline: %v, want DeadlineExceeded", errs[1])
			}
			holder.expect(t, "unlocked")
			other.expect(t, "got")
			if d := time.Since(start); d > worst {
				worst = d
			}
			holder.wait(t)
			other.wait(t)
			// Getting there at all is the point; how soon is a benchmark's.
		}
		t.Logf("worst release-to-other-process acquisition: %v (%s)", worst, futex.Kind())
	})
}

// TestMutexNotHeldAcrossProcesses: a process cannot unlock another's hold.
func TestMutexNotHeldAcrossProcesses(t *testing.T) {
	f, mem := sharedMem(t)
	holder := startChild(t, f, "holder")
	holder.expect(t, "locked")
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
	if err := m.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Unlock of another process's hold = %v", err)
	}
	if ok, err := m.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a live holder's mutex = %v, %v", ok, err)
	}
	atomic.StoreUint32(u32(mem, offFlags), 1)
	holder.expect(t, "unlocked")
	holder.wait(t)
	if ok, err := m.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after release = %v, %v", ok, err)
	}
	m.Unlock()
}
