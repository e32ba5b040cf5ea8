package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

func init() { helpers["holdanddie"] = holdAndDieChild }

// holdAndDieChild locks the mutex, says "locked" and then keeps breaking
// and restoring the invariant A == B until it is killed.
func holdAndDieChild([]string) int {
	mem, f := childMem()
	m, _ := childMutex(mem, f)
	ctx, cancel := ctxFor(time.Minute)
	defer cancel()
	switch err := m.Lock(ctx); {
	case errors.Is(err, ErrOwnerDead):
		atomic.StoreUint64(u64(mem, offPairB), atomic.LoadUint64(u64(mem, offPairA)))
		if err := m.MarkConsistent(); err != nil {
			fail("MarkConsistent: %v", err)
		}
	case err != nil:
		fail("Lock: %v", err)
	}
	say("locked")
	a, b := u64(mem, offPairA), u64(mem, offPairB)
	for {
		v := atomic.LoadUint64(a) + 1
		atomic.StoreUint64(a, v)
		for range 16 {
			atomic.LoadUint64(b)
		}
		atomic.StoreUint64(b, v)
	}
}

// deathStats collects take-over latencies across lanes.
type deathStats struct {
	mu                       sync.Mutex
	n, ownerDead, notRecov   int
	worst, total             time.Duration
	waiting, after, atRandom int
}

// TestOwnerDeath kills the holder with SIGKILL 200 times, at random
// moments, with this process already waiting or arriving later. Lock must
// never wedge, must report ErrOwnerDead whenever the victim held the
// mutex, and the data must be repairable (MarkConsistent) or, every tenth
// time, left unrepaired to check ErrNotRecoverable. With -short (the qemu
// runs of .ci/run, where every child costs an emulator start-up) it kills
// 64 times; the 200 run natively.
func TestOwnerDeath(t *testing.T) {
	rounds := 25
	if testing.Short() {
		rounds = 8
	}
	both(t, func(t *testing.T) { ownerDeath(t, 8, rounds) })
}

// TestOwnerDeathMechanisms repeats a shorter run with the classic fcntl
// and the flock-directory liveness locks.
func TestOwnerDeathMechanisms(t *testing.T) {
	for _, mech := range []string{"fcntl", "flock"} {
		t.Run(mech, func(t *testing.T) {
			withMechanism(t, mech)
			ownerDeath(t, 4, 6)
		})
	}
}

func ownerDeath(t *testing.T, lanes, rounds int) {
	var st deathStats
	t.Run("lanes", func(t *testing.T) {
		for lane := range lanes {
			t.Run(fmt.Sprint(lane), func(t *testing.T) {
				t.Parallel()
				deathLane(t, rounds, &st)
			})
		}
	})
	if st.n > 0 {
		t.Logf("%d kills (%s, %d waiting, %d arriving after, %d at random moments): %d ErrOwnerDead, %d made not recoverable; take-over after death: mean %v, worst %v",
			st.n, futex.Kind(), st.waiting, st.after, st.atRandom, st.ownerDead, st.notRecov, st.total/time.Duration(st.n), st.worst)
	}
}

func deathLane(t *testing.T, rounds int, st *deathStats) {
	f, mem := sharedMem(t)
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := u64(mem, offPairA), u64(mem, offPairB)
	for r := range rounds {
		c := startChild(t, f, "holdanddie")
		scenario := r % 3
		reported := false
		var waiterErr chan error
		switch scenario {
		case 0: // kill right after it reports holding the lock
			c.expect(t, "locked")
			reported = true
		case 1: // kill at a random moment: before, during or after Lock
			time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		case 2: // kill while this process sleeps in Lock
			c.expect(t, "locked")
			reported = true
			waiterErr = make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				waiterErr <- m.Lock(ctx)
			}()
			time.Sleep(time.Duration(1+rand.IntN(20)) * time.Millisecond)
		}
		c.cmd.Process.Kill()
		killed := time.Now()
		rest, _ := io.ReadAll(c.out)
		c.cmd.Wait()
		reported = reported || strings.Contains(string(rest), "locked")

		var lerr error
		if waiterErr != nil {
			lerr = <-waiterErr
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			lerr = m.Lock(ctx)
			cancel()
		}
		took := time.Since(killed)
		switch {
		case errors.Is(lerr, ErrOwnerDead):
			if m.Consistent() {
				t.Fatalf("round %d: ErrOwnerDead with the state still consistent", r)
			}
		case lerr != nil:
			t.Fatalf("round %d (scenario %d): Lock after the holder's death: %v", r, scenario, lerr)
		case reported:
			t.Fatalf("round %d (scenario %d): the victim held the mutex, but Lock returned nil", r, scenario)
		case atomic.LoadUint64(a) != atomic.LoadUint64(b):
			t.Fatalf("round %d: Lock returned nil over inconsistent data", r)
		}
		// Within the 10 s context is the point; how soon is measured by
		// the benchmarks, not asserted under an unknown load.
		_ = took
		notRecov := false
		if lerr != nil {
			atomic.StoreUint64(b, atomic.LoadUint64(a)) // repair
			if r%10 == 9 {
				notRecov = true
				if err := m.Unlock(); err != nil {
					t.Fatal(err)
				}
				if err := m.Lock(context.Background()); !errors.Is(err, ErrNotRecoverable) {
					t.Fatalf("Lock after an unrepaired Unlock = %v, want ErrNotRecoverable", err)
				}
				if ok, err := m.TryLock(); ok || !errors.Is(err, ErrNotRecoverable) {
					t.Fatalf("TryLock after an unrepaired Unlock = %v, %v", ok, err)
				}
				// Re-initialise: nobody else uses the mutex now.
				atomic.StoreUint32(u32(mem, offMutex), 0)
				atomic.StoreUint32(u32(mem, offMutex+4), 0)
			} else {
				if err := m.MarkConsistent(); err != nil {
					t.Fatal(err)
				}
				if !m.Consistent() {
					t.Fatal("MarkConsistent left the mutex marked")
				}
			}
		}
		if !notRecov {
			if err := m.Unlock(); err != nil {
				t.Fatal(err)
			}
		}
		st.mu.Lock()
		st.n++
		st.total += took
		st.worst = max(st.worst, took)
		if lerr != nil {
			st.ownerDead++
		}
		if notRecov {
			st.notRecov++
		}
		switch scenario {
		case 0:
			st.after++
		case 1:
			st.atRandom++
		case 2:
			st.waiting++
		}
		st.mu.Unlock()
	}
}
