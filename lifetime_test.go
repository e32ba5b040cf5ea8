package shm_test

// Lock handles against the lifetime of their Mapping. The cases that
// crashed the process before the handles held their mapping (a call after
// Close, a Close while a call sleeps) run in a child process, so that a
// regression fails the test instead of killing the test binary.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/shmdebug"
)

// Layout of the lock object in these tests.
const (
	lifeMutexOff = 0
	lifeSemOff   = 8
)

// hangGuard bounds the waits that can only end in a hang when the code is
// wrong; it is not a latency assertion.
const hangGuard = time.Minute

func init() {
	registerHelper("life-ops-after-close", lifeOpsAfterCloseChild)
	registerHelper("life-hold", lifeHoldChild)
	registerHelper("life-waiter", lifeWaiterChild)
	registerHelper("life-close-blocked", lifeCloseBlockedChild)
	registerHelper("life-stress", lifeStressChild)
}

// fail prints a child's failure and returns its exit code.
func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	return 1
}

// closedErr checks that err is a closed-mapping error naming op.
func closedErr(op string, err error) error {
	var pe *fs.PathError
	switch {
	case !errors.Is(err, fs.ErrClosed):
		return fmt.Errorf("%s after Close: %v, want fs.ErrClosed", op, err)
	case !errors.As(err, &pe) || pe.Op != op:
		return fmt.Errorf("%s after Close: %v does not name the operation", op, err)
	}
	return nil
}

// lifeOpsAfterCloseChild calls every method of a Mutex and a Semaphore
// after their Mapping was closed (with the mutex held, and a token in the
// semaphore): each must return fs.ErrClosed, and none may touch the
// unmapped memory.
func lifeOpsAfterCloseChild([]string) int {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return fail("%v", err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return fail("%v", err)
	}
	mu, err1 := m.Mutex(lifeMutexOff)
	idle, err2 := m.Mutex(16)
	s, err3 := m.Semaphore(lifeSemOff)
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail("%v", err)
	}
	if err := errors.Join(mu.Lock(context.Background()), s.Post()); err != nil {
		return fail("%v", err)
	}
	if err := m.Close(); err != nil {
		return fail("Close: %v", err)
	}
	ctx := context.Background()
	tryLocked, tryLockErr := idle.TryLock()
	tryWaited, tryWaitErr := s.TryWait()
	v, valueErr := s.Value()
	errs := []error{
		closedErr("lock", idle.Lock(ctx)),
		closedErr("lock", mu.Lock(ctx)),
		closedErr("trylock", tryLockErr),
		closedErr("unlock", mu.Unlock()),
		closedErr("markconsistent", mu.MarkConsistent()),
		closedErr("post", s.Post()),
		closedErr("wait", s.Wait(ctx)),
		closedErr("trywait", tryWaitErr),
		closedErr("value", valueErr),
	}
	if tryLocked || tryWaited || v != 0 {
		errs = append(errs, fmt.Errorf("after Close: TryLock %v, TryWait %v, Value %d", tryLocked, tryWaited, v))
	}
	// A handle of a closed mapping cannot be made either.
	if _, err := m.Mutex(0); !errors.Is(err, fs.ErrClosed) {
		errs = append(errs, fmt.Errorf("Mutex after Close: %v", err))
	}
	if _, err := m.Semaphore(8); !errors.Is(err, fs.ErrClosed) {
		errs = append(errs, fmt.Errorf("Semaphore after Close: %v", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fail("%v", err)
	}
	fmt.Println("ok")
	return 0
}

// TestLockCallsAfterClose: every Mutex and Semaphore method returns
// fs.ErrClosed after the Mapping is closed (before, Lock died of a fault
// in the unmapped word).
func TestLockCallsAfterClose(t *testing.T) {
	out, err := helperCommand(t, "life-ops-after-close").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// lifeHoldChild locks the mutex of the inherited object, says "locked",
// and unlocks it when a line arrives on its standard input.
func lifeHoldChild([]string) int {
	m, err := inheritedMapping()
	if err != nil {
		return fail("%v", err)
	}
	defer m.Close()
	mu, err := m.Mutex(lifeMutexOff)
	if err != nil {
		return fail("%v", err)
	}
	if err := mu.Lock(context.Background()); err != nil {
		return fail("%v", err)
	}
	fmt.Println("locked")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fail("stdin: %v", err)
	}
	if err := mu.Unlock(); err != nil {
		return fail("%v", err)
	}
	fmt.Println("unlocked")
	return 0
}

// sleepWord returns the address of the word that a waiter of kind
// ("mutex" or "sem") sleeps on in m: the mutex's lock word, or the value
// half of the semaphore word.
func sleepWord(m *shm.Mapping, kind string) uintptr {
	b := m.Bytes()
	if kind == "mutex" {
		return uintptr(unsafe.Pointer(&b[lifeMutexOff]))
	}
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) == 1 { // little-endian: the low half comes first
		return uintptr(unsafe.Pointer(&b[lifeSemOff]))
	}
	return uintptr(unsafe.Pointer(&b[lifeSemOff+4]))
}

// lock takes the mutex or a token of the semaphore, as kind says.
func lockOrWait(ctx context.Context, m *shm.Mapping, kind string) error {
	if kind == "mutex" {
		mu, err := m.Mutex(lifeMutexOff)
		if err != nil {
			return err
		}
		return mu.Lock(ctx)
	}
	s, err := m.Semaphore(lifeSemOff)
	if err != nil {
		return err
	}
	return s.Wait(ctx)
}

// lifeWaiterChild (args: kind) prints the address it will sleep on,
// takes the mutex (then unlocks it) or a token, and says "got".
func lifeWaiterChild(args []string) int {
	m, err := inheritedMapping()
	if err != nil {
		return fail("%v", err)
	}
	defer m.Close()
	kind := args[0]
	fmt.Printf("addr %#x\n", sleepWord(m, kind))
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := lockOrWait(ctx, m, kind); err != nil {
		return fail("peer %s: %v", kind, err)
	}
	if kind == "mutex" {
		mu, _ := m.Mutex(lifeMutexOff)
		if err := mu.Unlock(); err != nil {
			return fail("%v", err)
		}
	}
	fmt.Println("got")
	return 0
}

// asleepOn reports whether a thread of process pid is blocked in a system
// call whose first argument is addr (the futex wait on that word), from
// /proc/PID/task/*/syscall. observable is false where that cannot be read
// (no /proc, or a waiter that polls).
func asleepOn(pid int, addr uintptr) (asleep, observable bool) {
	if s, _ := shmdebug.Get(); s.Futex == "poll" {
		return false, false
	}
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	want := fmt.Sprintf("%#x", addr)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		observable = true
		if fields := strings.Fields(string(b)); len(fields) > 1 && fields[1] == want {
			return true, true
		}
	}
	return false, observable
}

// waitUntil polls cond until it holds or hangGuard passes.
func waitUntil(cond func() bool) bool {
	for end := time.Now().Add(hangGuard); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// lifeCloseBlockedChild (args: kind) maps the inherited object, blocks a
// goroutine in Lock or Wait (a peer holds the mutex; the semaphore is at
// 0), waits until it sleeps, and closes the Mapping: the blocked call must
// return fs.ErrClosed, and Close must return.
func lifeCloseBlockedChild(args []string) int {
	kind := args[0]
	m, err := inheritedMapping()
	if err != nil {
		return fail("%v", err)
	}
	addr := sleepWord(m, kind)
	op := map[string]string{"mutex": "lock", "sem": "wait"}[kind]
	res := make(chan error, 1)
	go func() { res <- lockOrWait(context.Background(), m, kind) }()
	// Asleep in the kernel on the word where that can be seen (Linux),
	// else at least registered for Close to wake.
	var early error
	returned := false
	if !waitUntil(func() bool {
		select {
		case early = <-res:
			returned = true
			return true
		default:
		}
		asleep, observable := asleepOn(os.Getpid(), addr)
		return asleep || !observable && shm.Sleepers(m) > 0
	}) {
		return fail("the %s call never went to sleep (registered sleepers: %d)", op, shm.Sleepers(m))
	}
	if returned {
		// Say what ended it: once under wine the call never slept, and
		// the failure did not tell why.
		return fail("the %s call returned before Close: %v", op, early)
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-res:
		if err := closedErr(op, err); err != nil {
			return fail("blocked %v", err)
		}
	case <-time.After(hangGuard):
		return fail("the blocked %s call did not return after Close", op)
	}
	select {
	case err := <-closed:
		if err != nil {
			return fail("Close: %v", err)
		}
	case <-time.After(hangGuard):
		return fail("Close did not return")
	}
	fmt.Println("ok")
	return 0
}

// startLife starts helper name with the object passed as "lockobj" and
// returns its stdin, its stdout and the command.
func startLife(t *testing.T, o *shm.Object, name string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := helperCommand(t, name, args...)
	if err := shm.Pass(cmd, "lockobj", o); err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
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
	return cmd, in, bufio.NewReader(out)
}

// expectLine reads a line from r and fails unless it starts with want; it
// returns the rest of the line.
func expectLine(t *testing.T, who string, r *bufio.Reader, want string) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, want) {
		t.Fatalf("%s said %q (%v), want %q", who, line, err, want)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, want))
}

// startPeerWaiter starts a waiter of kind in another process and waits
// until it sleeps on the word (or, where that cannot be seen, until seen
// registered in the word itself).
func startPeerWaiter(t *testing.T, o *shm.Object, m *shm.Mapping, kind string) *exec.Cmd {
	t.Helper()
	cmd, _, out := startLife(t, o, "life-waiter", kind)
	addr, err := strconv.ParseUint(expectLine(t, "peer", out, "addr "), 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	word := (*uint64)(unsafe.Pointer(&m.Bytes()[0]))
	registered := func() bool {
		if kind == "mutex" {
			return atomic.LoadUint32((*uint32)(unsafe.Pointer(word)))&(1<<31) != 0 // WAITERS
		}
		return atomic.LoadUint64((*uint64)(unsafe.Pointer(&m.Bytes()[lifeSemOff])))>>32 != 0 // a sleeper
	}
	if !waitUntil(func() bool {
		asleep, observable := asleepOn(cmd.Process.Pid, uintptr(addr))
		return asleep || !observable && registered()
	}) {
		t.Fatalf("the peer %s waiter never went to sleep", kind)
	}
	go func() { io.Copy(io.Discard, out) }()
	return cmd
}

// TestCloseWakesBlockedLock: a Mapping closed while a goroutine sleeps in
// Lock (the mutex held by another process, the waiter watching it on
// Linux): the Lock returns fs.ErrClosed and Close returns. A peer process
// asleep on the same word sees a spurious wake-up at most, and still gets
// the mutex when the holder lets go.
func TestCloseWakesBlockedLock(t *testing.T) {
	o, m := lockObject(t)
	holder, holderIn, holderOut := startLife(t, o, "life-hold")
	expectLine(t, "holder", holderOut, "locked")
	peer := startPeerWaiter(t, o, m, "mutex")

	out, err := closeBlockedChild(t, o, "mutex").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("Close during Lock, in a child: %v\n%s", err, out)
	}

	fmt.Fprintln(holderIn, "unlock")
	expectLine(t, "holder", holderOut, "unlocked")
	if err := holder.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := peer.Wait(); err != nil {
		t.Fatalf("peer waiter: %v", err)
	}
	mu, err := m.Mutex(lifeMutexOff)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := mu.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after everyone let go: %v, %v", ok, err)
	}
	mu.Unlock()
}

// TestCloseWakesBlockedWait: the same with Semaphore.Wait on a semaphore
// at 0. The peer process still gets the one token posted afterwards, and
// the closed waiter took nothing.
func TestCloseWakesBlockedWait(t *testing.T) {
	o, m := lockObject(t)
	peer := startPeerWaiter(t, o, m, "sem")

	out, err := closeBlockedChild(t, o, "sem").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("Close during Wait, in a child: %v\n%s", err, out)
	}

	s, err := m.Semaphore(lifeSemOff)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	if err := peer.Wait(); err != nil {
		t.Fatalf("peer waiter: %v", err)
	}
	if v := semValue(t, s); v != 0 {
		t.Fatalf("value %d after the peer took the only token", v)
	}
}

// closeBlockedChild returns the command of a life-close-blocked child.
func closeBlockedChild(t *testing.T, o *shm.Object, kind string) *exec.Cmd {
	cmd := helperCommand(t, "life-close-blocked", kind)
	if err := shm.Pass(cmd, "lockobj", o); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// lifeStressChild (args: rounds) runs goroutines that call every lock
// method in a loop, some of them blocking, while two goroutines close the
// Mapping; each loop must end with fs.ErrClosed, and nothing may fault.
func lifeStressChild(args []string) int {
	rounds, _ := strconv.Atoi(args[0])
	for round := range rounds {
		if err := stressRound(); err != nil {
			return fail("round %d: %v", round, err)
		}
	}
	fmt.Println("ok")
	return 0
}

func stressRound() error {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return err
	}
	const workers = 12
	var ops atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	ctx := context.Background()
	for g := range workers {
		mu, err1 := m.Mutex(lifeMutexOff)
		s, err2 := m.Semaphore(lifeSemOff)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		wg.Go(func() {
			errs <- stressLoop(ctx, g%4, mu, s, &ops)
		})
	}
	// Let every kind of call run a while, then close from two
	// goroutines at once.
	for ops.Load() < 4*workers {
		time.Sleep(10 * time.Microsecond)
	}
	var cerr [2]error
	var cw sync.WaitGroup
	for i := range cerr {
		cw.Go(func() { cerr[i] = m.Close() })
	}
	cw.Wait()
	wg.Wait()
	close(errs)
	all := []error{cerr[0], cerr[1]}
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// stressLoop calls one mix of lock methods until one returns fs.ErrClosed
// and returns nil then, or the first unexpected error.
func stressLoop(ctx context.Context, kind int, mu *shm.Mutex, s *shm.Semaphore, ops *atomic.Int64) error {
	done := func(err error) (bool, error) {
		ops.Add(1)
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, fs.ErrClosed):
			return true, nil
		}
		return true, err
	}
	for {
		var stop bool
		var err error
		switch kind {
		case 0: // lock, unlock
			if stop, err = done(mu.Lock(ctx)); !stop {
				stop, err = done(mu.Unlock())
			}
		case 1: // trylock, markconsistent, unlock
			ok, terr := mu.TryLock()
			if stop, err = done(terr); !stop && ok {
				if stop, err = done(mu.MarkConsistent()); !stop {
					stop, err = done(mu.Unlock())
				}
			}
		case 2: // post, trywait, value
			if stop, err = done(s.Post()); !stop {
				_, terr := s.TryWait()
				if stop, err = done(terr); !stop {
					_, verr := s.Value()
					stop, err = done(verr)
				}
			}
		case 3: // wait, often asleep on an empty semaphore
			stop, err = done(s.Wait(ctx))
		}
		if stop {
			return err
		}
	}
}

// TestCloseDuringLockCalls: many goroutines call every lock method, some
// asleep in Lock and Wait, while Close runs (in a child process, so that a
// fault fails the test). Run it under -race too.
func TestCloseDuringLockCalls(t *testing.T) {
	rounds := "50"
	if testing.Short() {
		rounds = "5"
	}
	out, err := helperCommand(t, "life-stress", rounds).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestLockErrorsAreTestable: the failures of lock calls match the exported
// sentinels under errors.Is and name the operation.
func TestLockErrorsAreTestable(t *testing.T) {
	o, m := lockObject(t)
	mu, err := m.Mutex(lifeMutexOff)
	if err != nil {
		t.Fatal(err)
	}
	var pe *fs.PathError
	if err := mu.Unlock(); !errors.Is(err, shm.ErrNotHeld) || !errors.As(err, &pe) || pe.Op != "unlock" {
		t.Errorf("Unlock of a free mutex: %v, want ErrNotHeld naming unlock", err)
	}
	if err := mu.MarkConsistent(); !errors.Is(err, shm.ErrNotHeld) || !errors.As(err, &pe) || pe.Op != "markconsistent" {
		t.Errorf("MarkConsistent of a free mutex: %v, want ErrNotHeld naming markconsistent", err)
	}
	// Held through another mapping of the same object: not ours either.
	other, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	omu, err := other.Mutex(lifeMutexOff)
	if err != nil {
		t.Fatal(err)
	}
	if err := omu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := mu.Unlock(); !errors.Is(err, shm.ErrNotHeld) {
		t.Errorf("Unlock of a mutex held through another mapping: %v, want ErrNotHeld", err)
	}
	if err := omu.Unlock(); err != nil {
		t.Fatal(err)
	}

	s, err := m.Semaphore(lifeSemOff)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bytes()[lifeSemOff : lifeSemOff+8]
	copy(b, make([]byte, 8))
	max := uint32(1<<31 - 1)
	*(*uint32)(unsafe.Pointer(&b[0])) = max // value half on little-endian
	if semValue(t, s) != int(max) {
		*(*uint32)(unsafe.Pointer(&b[0])) = 0
		*(*uint32)(unsafe.Pointer(&b[4])) = max // big-endian
	}
	if err := s.Post(); !errors.Is(err, shm.ErrOverflow) || !errors.As(err, &pe) || pe.Op != "post" {
		t.Errorf("Post at the maximum: %v, want ErrOverflow naming post", err)
	}
	if v := semValue(t, s); v != int(max) {
		t.Errorf("value %d after a refused Post, want %d", v, max)
	}
	for _, err := range []error{shm.ErrNotHeld, shm.ErrOverflow} {
		if !strings.HasPrefix(err.Error(), "shm: ") {
			t.Errorf("%q lacks the shm: prefix", err)
		}
	}
}
