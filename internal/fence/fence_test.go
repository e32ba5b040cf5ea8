package fence

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/litmus"
)

// TestRegistration: on a build with a heavy fence the registration
// succeeds (unless SHMDEBUG=fence=locked), and then Plain and Heavy
// report true; elsewhere both report false and Err says why.
func TestRegistration(t *testing.T) {
	err := Err()
	locked := strings.Contains(os.Getenv("SHMDEBUG"), "fence=locked")
	switch {
	case Supported && !locked:
		if err != nil {
			t.Fatalf("registration: %v", err)
		}
		if !Plain() || !Heavy() {
			t.Fatalf("registered, but Plain %v", Plain())
		}
	default:
		if err == nil {
			t.Fatalf("no heavy fence wanted (Supported %v, SHMDEBUG %q), but no error", Supported, os.Getenv("SHMDEBUG"))
		}
		if !Supported && !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%v: want errors.ErrUnsupported", err)
		}
		if Plain() || Heavy() {
			t.Fatal("Plain or Heavy true without a registration")
		}
		t.Logf("gates let go with an atomic store: %v", err)
	}
}

// cell is a word on a cache line of its own.
type cell struct {
	v uint32
	_ [60]byte
}

// storeBuffering runs the store-buffering test: in each round one goroutine
// stores x plainly and loads y; the other stores y atomically, calls
// fence, and loads x. Both loads returning 0 means a load passed the
// other goroutine's store. It runs up to rounds rounds, for at most
// budget (the two goroutines wait for each other at every round, and on
// a loaded machine one may wait out the other's time slice), and returns
// how many rounds both goroutines completed and how many of those saw
// neither store.
func storeBuffering(rounds int, budget time.Duration, fence func()) (ran, both0 int) {
	xs, ys := make([]cell, rounds), make([]cell, rounds)
	ra, rb := make([]uint32, rounds), make([]uint32, rounds)
	ran = litmus.Lockstep(rounds, budget, func(i int) { // the plain side, a gate's release
		xs[i].v = 1
		ra[i] = atomic.LoadUint32(&ys[i].v)
	}, func(i int) { // the heavy side, a waiter
		atomic.StoreUint32(&ys[i].v, 1)
		fence()
		rb[i] = atomic.LoadUint32(&xs[i].v)
	})
	for i := range ran {
		if ra[i] == 0 && rb[i] == 0 {
			both0++
		}
	}
	return ran, both0
}

// TestHeavyOrders: with Heavy between the waiter's store and its load, no
// round sees both loads return 0. Without it, x86 lets the plain side's
// load pass its own store, and rounds do (logged, not asserted: it is
// what makes this test able to fail).
func TestHeavyOrders(t *testing.T) {
	if err := Err(); err != nil {
		t.Skipf("no heavy fence: %v", err)
	}
	if runtime.GOMAXPROCS(0) < 2 || runtime.NumCPU() < 2 {
		t.Skip("the store-buffering test needs two CPUs")
	}
	const rounds, budget = 200_000, 5 * time.Second
	ran, n := storeBuffering(rounds, budget, func() {})
	t.Logf("without the heavy fence: %d of %d rounds saw neither store", n, ran)
	ran, n = storeBuffering(rounds, budget, func() { Heavy() })
	t.Logf("with the heavy fence: %d rounds", ran)
	if n != 0 {
		t.Fatalf("with the heavy fence: %d of %d rounds saw neither store", n, ran)
	}
}
