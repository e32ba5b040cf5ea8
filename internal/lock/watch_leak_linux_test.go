package lock

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

func init() { helpers["stepholder"] = stepHolderChild }

// stepHolderChild locks and unlocks the mutex on command: the parent
// stores step i in the flags word and wakes it; odd steps lock (the child
// then says "locked"), even ones unlock ("unlocked"); step 0xffffffff
// ends it.
func stepHolderChild([]string) int {
	mem, f := childMem()
	m, o := childMutex(mem, f)
	defer o.Close()
	flag := u32(mem, offFlags)
	for i := uint32(1); ; i++ {
		for {
			v := atomic.LoadUint32(flag)
			if v == ^uint32(0) {
				return 0
			}
			if v >= i {
				break
			}
			_ = futex.Wait(flag, v, time.Now().Add(time.Second))
		}
		if i%2 == 1 {
			ctx, cancel := ctxFor(time.Minute)
			err := m.Lock(ctx)
			cancel()
			if err != nil {
				fail("Lock: %v", err)
			}
			say("locked")
		} else {
			if err := m.Unlock(); err != nil {
				fail("Unlock: %v", err)
			}
			say("unlocked")
		}
	}
}

// step tells a stepHolderChild to take step i.
func step(mem []byte, i uint32) {
	atomic.StoreUint32(u32(mem, offFlags), i)
	_ = futex.Wake(u32(mem, offFlags), 1)
}

// countFDs returns the number of open descriptors of this process.
func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents) - 1 // ReadDir's own
}

// settle waits until the goroutine and descriptor counts are back to
// what they were; it fails, naming both, after a generous bound. The
// watches end asynchronously (their threads return from the kernel), so
// the counts are polled, not assumed.
func settle(t *testing.T, goroutines, fds int, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, n := runtime.NumGoroutine(), countFDs(t)
		if g <= goroutines && n <= fds {
			return
		}
		if time.Now().After(deadline) {
			watches.Lock()
			live := len(watches.m)
			watches.Unlock()
			t.Fatalf("%s: %d goroutines and %d descriptors 30 s later, %d and %d before (%d watches registered)",
				what, g, n, goroutines, fds, live)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWatchesEndWithOwners (issue 9, item 2): rounds of "make an owner,
// wait for a holder in another process (once giving up at a deadline, once
// until it unlocks), close the owner" must leave no watch behind: no
// goroutine, no thread blocked in the kernel, no descriptor.
func TestWatchesEndWithOwners(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v): polling waiters start no watch", futex.Kind(), err)
	}
	f, mem := sharedMem(t)
	probe, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	mech := probe.Mechanism()
	probe.Close()
	if mech != "ofd" {
		t.Skipf("owner mechanism %q has no kernel wait: no watches", mech)
	}
	c := startChild(t, f, "stepholder")
	defer func() {
		step(mem, ^uint32(0))
		c.wait(t)
	}()
	rounds := 1000
	if testing.Short() {
		rounds = 100
	}
	var i uint32
	round := func(r int) *tokenWatch {
		o, err := NewFileOwner(f)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
		i++
		step(mem, i)
		c.expect(t, "locked")
		holder := atomic.LoadUint32(u32(mem, offMutex)) & tokenMask

		// A Lock that gives up at its deadline.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err = m.Lock(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("round %d: Lock of a held mutex with a 1 ms deadline = %v", r, err)
		}

		// A Lock that succeeds once the holder unlocks; the unlock comes
		// after the waiter has a watch on the holder.
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		got := make(chan error, 1)
		go func() { got <- m.Lock(ctx) }()
		key := watchKey{o.lk.(waitLocker).file(), holder}
		var w *tokenWatch
		for deadline := time.Now().Add(30 * time.Second); ; {
			watches.Lock()
			w = watches.m[key]
			watches.Unlock()
			if w != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no watch on the holder 30 s after Lock began", r)
			}
			time.Sleep(50 * time.Microsecond)
		}
		i++
		step(mem, i)
		if err := <-got; err != nil {
			t.Fatalf("round %d: Lock = %v", r, err)
		}
		cancel()
		c.expect(t, "unlocked")
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	// A first round makes what lives for the whole process (the stop
	// descriptor, the runtime's threads).
	select {
	case <-round(-1).ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the first round's watch did not end 30 s after its owner closed")
	}
	g0, fd0 := runtime.NumGoroutine(), countFDs(t)
	for r := range rounds {
		round(r)
	}
	settle(t, g0, fd0, "after the rounds")
	watches.Lock()
	n := len(watches.m)
	watches.Unlock()
	if n != 0 {
		t.Errorf("%d watches still registered after every owner closed", n)
	}
}
