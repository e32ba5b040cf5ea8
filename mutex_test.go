package shm_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("mutex-counter", mutexCounterChild)
	registerHelper("mutex-hold", mutexHoldChild)
}

// lockObject makes an anonymous object and a read-write mapping of it.
func lockObject(t *testing.T) (*shm.Object, *shm.Mapping) {
	t.Helper()
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return o, m
}

// inheritedMapping maps the object the parent passed as "lockobj".
func inheritedMapping() (*shm.Mapping, error) {
	o, err := shm.Inherited("lockobj")
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return o.Map()
}

// inheritedMutex maps the object passed as "lockobj" and returns the
// mutex at offset 0 of it, for the children of the mutex tests; the
// caller closes the mapping.
func inheritedMutex() (*shm.Mapping, *shm.Mutex, error) {
	m, err := inheritedMapping()
	if err != nil {
		return nil, nil, err
	}
	mu, err := m.Mutex(0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, mu, nil
}

// serveMutex is the body of a child of the mutex tests driven by lines
// on its standard input: it takes the mutex at offset 0 of the object
// passed as "lockobj" and calls step with it for each line until step
// says stop, and returns step's exit code, or atEOF when the input ends.
func serveMutex(atEOF int, step func(mu *shm.Mutex, line string) (code int, stop bool)) int {
	m, mu, err := inheritedMutex()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer m.Close()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if code, stop := step(mu, in.Text()); stop {
			return code
		}
	}
	return atEOF
}

// startLockChild starts helper name with the object passed as "lockobj".
func startLockChild(t *testing.T, o *shm.Object, name string, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := helperCommand(t, name, args...)
	if err := shm.Pass(cmd, "lockobj", o); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(out)
}

func counterAt(m *shm.Mapping, off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.Bytes()[off]))
}

func TestMutexAttachErrors(t *testing.T) {
	o, m := lockObject(t)
	for _, off := range []int{4, -8, 4096, 4090} {
		if _, err := m.Mutex(off); err == nil {
			t.Errorf("Mutex(%d) succeeded", off)
		}
	}
	r, err := o.MapReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Mutex(0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Mutex on a read-only mapping: %v, want ErrPermission", err)
	}
	r.Close()
	if _, err := r.Mutex(0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Mutex on a closed mapping: %v, want ErrClosed", err)
	}
	if _, err := m.Mutex(4088); err != nil {
		t.Errorf("Mutex at the last slot: %v", err)
	}
}

// TestMutexOwnership: the holder is the Mapping, not the handle.
func TestMutexOwnership(t *testing.T) {
	o, m := lockObject(t)
	ctx := context.Background()
	h1, err := m.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := m.Mutex(0)
	if err := h1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := h2.TryLock(); ok || err != nil {
		t.Fatalf("TryLock through the same mapping while held = %v, %v", ok, err)
	}
	other, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h3, err := other.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h3.TryLock(); ok || err != nil {
		t.Fatalf("TryLock through another mapping while held = %v, %v", ok, err)
	}
	if err := h3.Unlock(); err == nil {
		t.Fatal("Unlock through another mapping succeeded")
	}
	if err := h3.MarkConsistent(); err == nil {
		t.Fatal("MarkConsistent through another mapping succeeded")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := h3.Lock(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held mutex with a deadline = %v", err)
	}
	if err := h2.Unlock(); err != nil { // same mapping: same holder
		t.Fatalf("Unlock through another handle of the holding mapping: %v", err)
	}
	if err := h3.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h3.Unlock(); err != nil {
		t.Fatal(err)
	}
	if b := m.Bytes()[:shm.MutexSize]; string(b) != string(make([]byte, shm.MutexSize)) {
		t.Fatalf("an unlocked consistent mutex is not all zero: % x", b)
	}
}

// mutexCounterChild adds args[0] to the counter at 64, one by one under
// the mutex at 0, from two goroutines.
func mutexCounterChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	m, mu, err := inheritedMutex()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer m.Close()
	counter := counterAt(m, 64)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for i := range n {
				if err := mu.Lock(context.Background()); err != nil {
					errs <- err
					return
				}
				c := *counter
				if i%8 == 0 {
					runtime.Gosched()
				}
				*counter = c + 1
				if err := mu.Unlock(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestMutexAcrossProcesses(t *testing.T) {
	const procs, per = 3, 2000
	o, m := lockObject(t)
	var cmds []*exec.Cmd
	for range procs {
		cmd, _ := startLockChild(t, o, "mutex-counter", strconv.Itoa(per))
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	if got, want := *counterAt(m, 64), uint64(procs*2*per); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
}

// mutexHoldChild locks the mutex, says "locked", breaks the invariant
// (byte 64 != byte 65) and waits to be killed.
func mutexHoldChild([]string) int {
	m, err := inheritedMapping()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mu, err := m.Mutex(0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := mu.Lock(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m.Bytes()[64]++
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return 1
}

// TestMutexOwnerDies: a holder killed with SIGKILL; the next Lock gets
// ErrOwnerDead within a bound, repairs, and the mutex works again; a
// second death left unrepaired makes it not recoverable.
func TestMutexOwnerDies(t *testing.T) {
	o, m := lockObject(t)
	mu, err := m.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	kill := func() {
		t.Helper()
		cmd, out := startLockChild(t, o, "mutex-hold")
		if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "locked" {
			t.Fatalf("child said %q, %v", line, err)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	for round := range 2 {
		kill()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := mu.Lock(ctx)
		cancel()
		if !errors.Is(err, shm.ErrOwnerDead) {
			t.Fatalf("Lock after the holder died: %v, want ErrOwnerDead", err)
		}
		// ErrOwnerDead within the 10 s context is the point; the time is
		// a benchmark's (BENCHMARKS.md), not a test's.
		t.Logf("take-over took %v", time.Since(start))
		b := m.Bytes()
		if b[64] == b[65] {
			t.Fatal("the dead holder's half-done update is not visible")
		}
		b[65] = b[64] // repair
		if round == 0 {
			if err := mu.MarkConsistent(); err != nil {
				t.Fatal(err)
			}
			if err := mu.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := mu.Lock(context.Background()); err != nil {
				t.Fatalf("Lock after repair: %v", err)
			}
			if err := mu.Unlock(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := mu.Unlock(); err != nil { // without MarkConsistent
			t.Fatal(err)
		}
		if err := mu.Lock(context.Background()); !errors.Is(err, shm.ErrNotRecoverable) {
			t.Fatalf("Lock after an unrepaired death: %v, want ErrNotRecoverable", err)
		}
		if ok, err := mu.TryLock(); ok || !errors.Is(err, shm.ErrNotRecoverable) {
			t.Fatalf("TryLock after an unrepaired death: %v, %v", ok, err)
		}
	}
	// Zeroing the mutex while nobody uses it makes it new again.
	clear(m.Bytes()[:shm.MutexSize])
	if ok, err := mu.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock of a re-initialised mutex: %v, %v", ok, err)
	}
	mu.Unlock()
}

func TestMutexErrorsArePrefixed(t *testing.T) {
	for _, err := range []error{shm.ErrOwnerDead, shm.ErrNotRecoverable} {
		if !strings.HasPrefix(err.Error(), "shm: ") {
			t.Errorf("%q lacks the shm: prefix", err)
		}
	}
}

// TestMutexOwnerReleased: the liveness lock of a Mapping's mutexes holds
// a descriptor, which Mapping.Close releases at once.
func TestMutexOwnerReleased(t *testing.T) {
	before := countFDs()
	if before < 0 {
		t.Skip("cannot count descriptors on this system: no /proc/self/fd or /dev/fd")
	}
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	mu, err := m.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Closing the mapping while holding the mutex makes this holder dead
	// to the others: a second mapping takes the mutex over.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	mu2, err := m2.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mu2.Lock(ctx); !errors.Is(err, shm.ErrOwnerDead) {
		t.Fatalf("Lock after the holder's mapping closed: %v, want ErrOwnerDead", err)
	}
	mu2.MarkConsistent()
	mu2.Unlock()
	m2.Close()
	o.Close()
	if after := countFDs(); after != before {
		t.Errorf("descriptors: %d before, %d after closing everything", before, after)
	}
}
