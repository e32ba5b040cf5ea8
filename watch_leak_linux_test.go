package shm_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

func init() { registerHelper("mutex-stepper", mutexStepperChild) }

// mutexStepperChild locks the mutex on "lock" (then says "locked") and
// unlocks it on "unlock" ("unlocked"), until its input ends.
func mutexStepperChild([]string) int {
	return serveMutex(0, func(mu *shm.Mutex, line string) (int, bool) {
		var err error
		switch line {
		case "lock":
			if err = mu.Lock(context.Background()); err == nil {
				fmt.Println("locked")
			}
		case "unlock":
			if err = mu.Unlock(); err == nil {
				fmt.Println("unlocked")
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1, true
		}
		return 0, false
	})
}

// TestMapLockCloseLeavesNothing (issue 9, item 2): a waiter on Linux
// watches the holder with a thread blocked in the kernel on a descriptor
// of the object. Rounds of Map, contended Lock (one that times out, one
// that succeeds when the holder in another process unlocks), Close must
// leave the goroutine and descriptor counts where they were: the last
// Close of a mapping that used a watch stops it.
func TestMapLockCloseLeavesNothing(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cmd := helperCommand(t, "mutex-stepper")
	if err := shm.Pass(cmd, "lockobj", o); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	tell := func(cmd, reply string) {
		t.Helper()
		fmt.Fprintln(stdin, cmd)
		line, err := out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != reply {
			t.Fatalf("holder: %q, %v; want %q", line, err, reply)
		}
	}
	round := func(r int) {
		m, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		mu, err := m.Mutex(0)
		if err != nil {
			t.Fatal(err)
		}
		tell("lock", "locked")
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err = mu.Lock(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("round %d: Lock of a held mutex with a 1 ms deadline = %v", r, err)
		}
		got := make(chan error, 1)
		go func() { got <- mu.Lock(context.Background()) }()
		tell("unlock", "unlocked")
		if err := <-got; err != nil {
			t.Fatalf("round %d: Lock = %v", r, err)
		}
		if err := mu.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() (int, int) { return runtime.NumGoroutine(), countFDs() }
	// atMost awaits counts of at most g goroutines and n descriptors: the
	// watches end asynchronously, as their threads return from the kernel.
	atMost := func(g, n int, what string) {
		t.Helper()
		settle(t, func() bool { g1, n1 := counts(); return g1 <= g && n1 <= n }, func() string {
			g1, n1 := counts()
			return fmt.Sprintf("%s: %d goroutines and %d descriptors, want at most %d and %d", what, g1, n1, g, n)
		})
	}
	g0, n0 := counts()
	round(-1) // what lives as long as the process (one descriptor) is made now
	atMost(g0, n0+1, "after a first round")
	g0, n0 = counts()
	rounds := 1000
	if testing.Short() {
		rounds = 100
	}
	for r := range rounds {
		round(r)
	}
	atMost(g0, n0, fmt.Sprintf("after %d rounds", rounds))
}
