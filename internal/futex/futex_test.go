package futex

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/shmdebug"
	"github.com/shmkit/shm/internal/testenv"
)

// helpers are the child processes a test can start by re-executing the
// test binary with helperEnv set to a name.
var helpers = map[string]func() int{}

const helperEnv = "FUTEX_TEST_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		f, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(2)
		}
		os.Exit(f())
	}
	// Under -race, children exit without the race runtime's one-second sleep.
	testenv.NoRaceExitSleep()
	os.Exit(m.Run())
}

// modes runs f once with the OS primitive and once with polling forced.
func modes(t *testing.T, f func(t *testing.T)) {
	defer ForceFallback(forced.Load())
	t.Run("native", func(t *testing.T) {
		if err := Available(); err != nil {
			t.Skipf("no OS wait/wake here: %v", err)
		}
		ForceFallback(false)
		f(t)
	})
	t.Run("poll", func(t *testing.T) {
		ForceFallback(true)
		if Kind() != "poll" {
			t.Fatalf("Kind() = %q with the fallback forced", Kind())
		}
		f(t)
	})
}

func TestKind(t *testing.T) {
	want := map[string]string{
		"linux": "futex", "freebsd": "umtx", "openbsd": "futex(libc)", "netbsd": "futex",
		"dragonfly": "umtx_sleep", "darwin": "ulock",
	}[runtime.GOOS]
	if want == "" {
		if err := Available(); !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Available() = %v, want an error wrapping ErrUnsupported", err)
		}
		want = "poll"
	} else if err := Available(); err != nil {
		t.Logf("OS primitive unavailable: %v", err)
		want = "poll"
	}
	if s, _ := shmdebug.Get(); s.Futex == "poll" {
		want = "poll"
	}
	if got := Kind(); got != want {
		t.Fatalf("Kind() = %q, want %q", got, want)
	}
}

func TestBadAddress(t *testing.T) {
	var words [2]uint64
	odd := (*uint32)(unsafe.Add(unsafe.Pointer(&words[0]), 1))
	for _, addr := range []*uint32{nil, odd} {
		if err := Wait(addr, 0, time.Time{}); err == nil {
			t.Errorf("Wait(%p) succeeded", addr)
		}
		if err := Wake(addr, 1); err == nil {
			t.Errorf("Wake(%p) succeeded", addr)
		}
	}
}

func TestMismatchReturnsAtOnce(t *testing.T) {
	modes(t, func(t *testing.T) {
		// A Wait that slept would end in ErrTimeout at the deadline:
		// nil is the proof that it returned at once, whatever the load.
		w := uint32(7)
		if err := Wait(&w, 6, time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("Wait on a mismatched value: %v", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	modes(t, func(t *testing.T) {
		var w uint32
		const d = 30 * time.Millisecond
		start := time.Now()
		deadline := start.Add(d)
		var err error
		for err == nil { // spurious returns are allowed
			err = Wait(&w, 0, deadline)
		}
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Wait = %v, want ErrTimeout", err)
		}
		if el := time.Since(start); el < d {
			t.Fatalf("Wait timed out after %v, before the %v deadline", el, d)
		}
		if err := Wait(&w, 0, time.Now().Add(-time.Second)); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Wait with a past deadline = %v, want ErrTimeout", err)
		}
		var te interface{ Timeout() bool }
		if !errors.As(err, &te) || !te.Timeout() {
			t.Fatalf("ErrTimeout has no Timeout() true")
		}
	})
}

// TestWakeInProcess wakes a goroutine that sleeps without a deadline.
func TestWakeInProcess(t *testing.T) {
	modes(t, func(t *testing.T) {
		var w uint32
		done := make(chan error, 1)
		go func() {
			for atomic.LoadUint32(&w) == 0 {
				if err := Wait(&w, 0, time.Time{}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		time.Sleep(20 * time.Millisecond) // let it fall asleep
		atomic.StoreUint32(&w, 1)
		if err := Wake(&w, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("waiter not woken within 10s")
		}
	})
}

// TestWakeAll wakes several sleepers with one Wake(n<=0).
func TestWakeAll(t *testing.T) {
	modes(t, func(t *testing.T) {
		var w uint32
		const n = 4
		done := make(chan error, n)
		var asleep atomic.Int32
		for range n {
			go func() {
				asleep.Add(1)
				// One Wait call only: a wake must end it (or a spurious return,
				// which a sleeper without signals should not see often).
				deadline := time.Now().Add(10 * time.Second)
				for atomic.LoadUint32(&w) == 0 {
					if err := Wait(&w, 0, deadline); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
		for asleep.Load() < n {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		atomic.StoreUint32(&w, 1)
		if err := Wake(&w, 0); err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := <-done; err != nil {
				t.Fatalf("waiter: %v", err)
			}
		}
	})
}
