package lock

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/shmkit/shm/internal/region"
)

// The cross-process tests of the Windows locks: the test and its children
// (this binary re-executed) map one named section and use the words in
// it with the same keys. The sleep slices are an hour in every process,
// so a wake-up that the kernel objects do not deliver (a lost one, or a
// holder's death noticed only by a probe) shows as a test that times out
// instead of one that passes slowly.

const (
	winMutex   = 0  // mutex words
	winCounter = 64 // uint64 incremented under the mutex
	winSem     = 128
	winSem2    = 192
	winSize    = 4096
)

// winSlices lengthens every sleep slice to an hour in this process.
func winSlices(t testing.TB) {
	old := [3]time.Duration{semSleep, mutexSleep, watchedSleep}
	semSleep, mutexSleep, watchedSleep = time.Hour, time.Hour, time.Hour
	if t != nil {
		t.Cleanup(func() { semSleep, mutexSleep, watchedSleep = old[0], old[1], old[2] })
	}
}

// winShared maps the named section name (made if need be) and returns its
// region; cleanup closes the region and unmaps.
func winShared(name string) (r *region.Region, mem []byte, cleanup func(), err error) {
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE, 0, winSize, windows.StringToUTF16Ptr(name))
	if err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return nil, nil, nil, err
	}
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_WRITE, 0, 0, winSize)
	if err != nil {
		windows.CloseHandle(h)
		return nil, nil, nil, err
	}
	mem = unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), winSize)
	r = region.New(unsafe.Pointer(&mem[0]), winSize)
	return r, mem, func() {
		r.Close()
		windows.UnmapViewOfFile(addr)
		windows.CloseHandle(h)
	}, nil
}

// winName returns a fresh name for a test's kernel object.
func winName() string {
	var b [8]byte
	rand.Read(b[:])
	return `Local\shm-locktest-` + hex.EncodeToString(b[:])
}

// winSection makes a fresh section for a test.
func winSection(t *testing.T) (name string, r *region.Region, mem []byte) { return winSectionB(t) }

// winSectionB is winSection for any test or benchmark.
func winSectionB(t testing.TB) (name string, r *region.Region, mem []byte) {
	t.Helper()
	name = winName()
	r, mem, cleanup, err := winShared(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return name, r, mem
}

// winOwner returns a new owner, closed at the end of the test (nil t:
// never).
func winOwner(t testing.TB) *FileOwner {
	o, err := NewFileOwner(os.Stdin)
	if err != nil {
		t.Fatal(err)
	}
	if t != nil {
		t.Cleanup(func() { o.Close() })
	}
	return o
}

func winKey(section string, off int) string { return fmt.Sprintf("%s@%d", section, off) }

// winChild starts helper name with the section and args; its output
// lines come through the reader.
func winChild(t testing.TB, name string, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name, helperArgsEnv+"="+strings.Join(args, " "))
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

func expectLine(t *testing.T, out *bufio.Reader, want string) {
	t.Helper()
	line, err := out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != want {
		t.Fatalf("child said %q, %v; want %q", line, err, want)
	}
}

// winHelper runs a child body on the section args[0], with hour-long
// slices.
func winHelper(body func(r *region.Region, mem []byte, section string, args []string) error) func([]string) int {
	return func(args []string) int {
		winSlices(nil)
		r, mem, cleanup, err := winShared(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		if err := body(r, mem, args[0], args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
}

func init() {
	// win-count: lock, increment the counter non-atomically, unlock,
	// args[1] times.
	helpers["win-count"] = winHelper(func(r *region.Region, mem []byte, section string, args []string) error {
		var n int
		fmt.Sscan(args[0], &n)
		o, err := NewFileOwner(os.Stdin)
		if err != nil {
			return err
		}
		defer o.Close()
		m, err := NewMutexIn(r, winMutex, o, winKey(section, winMutex))
		if err != nil {
			return err
		}
		c := (*uint64)(unsafe.Pointer(&mem[winCounter]))
		for range n {
			if err := m.Lock(context.Background()); err != nil {
				return err
			}
			v := *c
			*c = v + 1
			if err := m.Unlock(); err != nil {
				return err
			}
		}
		return nil
	})
	// win-hold: lock, say "locked", wait to be killed.
	helpers["win-hold"] = winHelper(func(r *region.Region, _ []byte, section string, _ []string) error {
		o, err := NewFileOwner(os.Stdin)
		if err != nil {
			return err
		}
		m, err := NewMutexIn(r, winMutex, o, winKey(section, winMutex))
		if err != nil {
			return err
		}
		if err := m.Lock(context.Background()); err != nil {
			return err
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		return nil
	})
	// win-sleep: sleep for an hour (the idle baseline).
	helpers["win-sleep"] = func([]string) int {
		time.Sleep(time.Hour)
		return 0
	}
	// win-pong: n times, wait on winSem and post winSem2.
	helpers["win-pong"] = winHelper(func(r *region.Region, _ []byte, section string, args []string) error {
		var n int
		fmt.Sscan(args[0], &n)
		a, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
		if err != nil {
			return err
		}
		b, err := NewSemaphoreIn(r, winSem2, winKey(section, winSem2))
		if err != nil {
			return err
		}
		fmt.Println("ready")
		for range n {
			if err := a.Wait(context.Background()); err != nil {
				return err
			}
			if err := b.Post(); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestWindowsMutexExclusion: processes increment a counter under the
// mutex with a plain read and write; none of the increments is lost.
func TestWindowsMutexExclusion(t *testing.T) {
	winSlices(t)
	section, r, mem := winSection(t)
	const procs, per = 3, 2000
	m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range procs {
		cmd, _ := winChild(t, "win-count", section, fmt.Sprint(per))
		cmds = append(cmds, cmd)
	}
	c := (*uint64)(unsafe.Pointer(&mem[winCounter]))
	for range per {
		if err := m.Lock(context.Background()); err != nil {
			t.Fatal(err)
		}
		v := *c
		*c = v + 1
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	if got, want := atomic.LoadUint64(c), uint64((procs+1)*per); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
}

// waitForSleeper waits until the mutex word says a waiter sleeps.
func waitForSleeper(t *testing.T, word *uint32, done <-chan error) {
	t.Helper()
	for atomic.LoadUint32(word)&waitersBit == 0 {
		select {
		case err := <-done:
			t.Fatalf("Lock returned before the holder died: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWindowsHolderKilled: a waiter asleep in Lock (hour-long slices, so
// no probe) gets ErrOwnerDead when the holder is killed: the holder's
// process handle wakes it.
func TestWindowsHolderKilled(t *testing.T) {
	winSlices(t)
	section, r, mem := winSection(t)
	m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
	if err != nil {
		t.Fatal(err)
	}
	cmd, out := winChild(t, "win-hold", section)
	expectLine(t, out, "locked")
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() { done <- m.Lock(ctx) }()
	waitForSleeper(t, (*uint32)(unsafe.Pointer(&mem[winMutex])), done)
	start := time.Now()
	cmd.Process.Kill()
	if err := <-done; !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock after the holder was killed: %v, want ErrOwnerDead", err)
	}
	t.Logf("ErrOwnerDead %v after the kill", time.Since(start))
	if err := m.MarkConsistent(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// TestWindowsSemaphorePingPong: posts in one process wake a waiter asleep
// in another, both ways, with hour-long slices.
func TestWindowsSemaphorePingPong(t *testing.T) {
	winSlices(t)
	section, r, _ := winSection(t)
	a, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSemaphoreIn(r, winSem2, winKey(section, winSem2))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	cmd, out := winChild(t, "win-pong", section, fmt.Sprint(n))
	expectLine(t, out, "ready")
	for range n {
		if err := a.Post(); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if v, _ := a.Value(); v != 0 {
		t.Errorf("value after the exchange: %d", v)
	}
}

// TestWindowsWaitEnds: a Lock or Wait asleep with hour-long slices
// returns on its context's cancellation and on the region's Close.
func TestWindowsWaitEnds(t *testing.T) {
	winSlices(t)
	for _, how := range []string{"cancel", "close"} {
		t.Run(how, func(t *testing.T) {
			section, r, mem := winSection(t)
			held, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
			if err != nil {
				t.Fatal(err)
			}
			if err := held.Lock(context.Background()); err != nil {
				t.Fatal(err)
			}
			m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lockDone, waitDone := make(chan error, 1), make(chan error, 1)
			go func() { lockDone <- m.Lock(ctx) }()
			go func() { waitDone <- s.Wait(ctx) }()
			waitForSleeper(t, (*uint32)(unsafe.Pointer(&mem[winMutex])), lockDone)
			for s.Waiters() == 0 {
				time.Sleep(time.Millisecond)
			}
			want := context.Canceled
			if how == "cancel" {
				cancel()
			} else {
				want = fs.ErrClosed
				r.Close()
			}
			if err := <-lockDone; !errors.Is(err, want) {
				t.Errorf("Lock: %v, want %v", err, want)
			}
			if err := <-waitDone; !errors.Is(err, want) {
				t.Errorf("Wait: %v, want %v", err, want)
			}
		})
	}
}

// TestWindowsHostileHolder: a lock word naming a token that no owner
// holds, or whose owner section holds garbage or a process that is not
// the one that made it, is taken over at once with ErrOwnerDead; a word
// that is all ones neither panics nor hangs.
func TestWindowsHostileHolder(t *testing.T) {
	winSlices(t)
	for _, rec := range []string{"none", "garbage", "dead-pid", "reused-pid"} {
		t.Run(rec, func(t *testing.T) {
			section, r, mem := winSection(t)
			m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
			if err != nil {
				t.Fatal(err)
			}
			// A token that no owner of this test uses.
			var tok uint32
			for tok == 0 {
				var b [4]byte
				rand.Read(b[:])
				tok = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				tok &= tokenMask
			}
			var content []byte
			switch rec {
			case "garbage":
				content = []byte("not an owner record at all")
			case "dead-pid":
				r := encodeOwnerRecord(0xfffffffc, 1)
				content = r[:]
			case "reused-pid":
				// This process's id with a creation time that is not its.
				r := encodeOwnerRecord(windows.GetCurrentProcessId(), 12345)
				content = r[:]
			}
			if content != nil {
				h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE, 0, 4096, windows.StringToUTF16Ptr(ownerObjectName(tok)))
				if err != nil {
					t.Fatal(err)
				}
				defer windows.CloseHandle(h)
				if err := withView(h, windows.FILE_MAP_WRITE, func(b []byte) { copy(b, content) }); err != nil {
					t.Fatal(err)
				}
			}
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&mem[winMutex])), tok)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := m.Lock(ctx); !errors.Is(err, ErrOwnerDead) {
				t.Fatalf("Lock: %v, want ErrOwnerDead", err)
			}
			m.Unlock()
		})
	}
	t.Run("all-ones", func(t *testing.T) {
		section, r, mem := winSection(t)
		m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 16 {
			mem[winMutex+i%8] = 0xff
			mem[winSem+i%8] = 0xff
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		// The token 2^30-1 has no owner: taken over, but the state word
		// is garbage: not recoverable.
		if err := m.Lock(ctx); !errors.Is(err, ErrNotRecoverable) {
			t.Errorf("Lock on an all-ones mutex: %v, want ErrNotRecoverable", err)
		}
		if err := s.Post(); !errors.Is(err, ErrOverflow) {
			t.Errorf("Post on an all-ones semaphore: %v, want ErrOverflow", err)
		}
		if err := s.Wait(ctx); err != nil {
			t.Errorf("Wait on an all-ones semaphore (value 2^32-1): %v", err)
		}
	})
}

// TestWindowsIdleWaiter: a process asleep in Semaphore.Wait (hour-long
// slices) is woken by a Post from another process. It logs the CPU time
// the sleeper used over two seconds of its sleep, beside that of a Go
// process asleep in time.Sleep (the runtime's own background work), for
// BENCHMARKS.md; the figures are not asserted.
func TestWindowsIdleWaiter(t *testing.T) {
	winSlices(t)
	section, r, _ := winSection(t)
	a, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSemaphoreIn(r, winSem2, winKey(section, winSem2))
	if err != nil {
		t.Fatal(err)
	}
	cmd, out := winChild(t, "win-pong", section, "1")
	expectLine(t, out, "ready")
	for a.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(p)
	idle, _ := winChild(t, "win-sleep")
	q, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(idle.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(q)
	cpu := func(p windows.Handle) time.Duration {
		var c, e, k, u windows.Filetime
		if err := windows.GetProcessTimes(p, &c, &e, &k, &u); err != nil {
			t.Fatal(err)
		}
		return time.Duration((int64(k.HighDateTime)<<32|int64(k.LowDateTime))+(int64(u.HighDateTime)<<32|int64(u.LowDateTime))) * 100
	}
	c0, i0, t0 := cpu(p), cpu(q), time.Now()
	time.Sleep(2 * time.Second) // the measurement's span, not a synchronisation
	c1, i1, t1 := cpu(p), cpu(q), time.Now()
	span := t1.Sub(t0)
	t.Logf("idle waiter: %v of CPU in %v asleep (%.3f%% of a CPU); a Go process in time.Sleep: %v (%.3f%%)",
		c1-c0, span.Round(time.Millisecond), 100*float64(c1-c0)/float64(span), i1-i0, 100*float64(i1-i0)/float64(span))
	if err := a.Post(); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

// TestWindowsHolderOwnerClosed: a holder whose owner closes (its Mapping
// closed while it held the mutex) is dead to a waiter asleep in Lock
// (hour-long slices), which the owner's closed event wakes at once.
func TestWindowsHolderOwnerClosed(t *testing.T) {
	winSlices(t)
	section, r, mem := winSection(t)
	holderOwner, err := NewFileOwner(os.Stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer holderOwner.Close()
	holder, err := NewMutexIn(r, winMutex, holderOwner, winKey(section, winMutex))
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := NewMutexIn(r, winMutex, winOwner(t), winKey(section, winMutex))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() { done <- m.Lock(ctx) }()
	waitForSleeper(t, (*uint32)(unsafe.Pointer(&mem[winMutex])), done)
	if err := holderOwner.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock after the holder's owner closed: %v, want ErrOwnerDead", err)
	}
	m.MarkConsistent()
	m.Unlock()
}

// TestWindowsStaleWakeupsBounded: a waiter that died registered leaves
// the semaphore's waiter count one too high, so every Post releases the
// word's kernel semaphore; the wake-ups nobody consumes stay at most as
// many as the registered waiters, and a later sleeper still sleeps.
func TestWindowsStaleWakeupsBounded(t *testing.T) {
	winSlices(t)
	section, r, mem := winSection(t)
	s, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
	if err != nil {
		t.Fatal(err)
	}
	atomic.AddUint64((*uint64)(unsafe.Pointer(&mem[winSem])), semOneWaiter) // the dead waiter
	for range 1000 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.TryWait(); !ok || err != nil {
			t.Fatalf("TryWait after Post: %v, %v", ok, err)
		}
	}
	var prev int32
	if r, _, e := procReleaseSemaphore.Call(uintptr(s.q.sem), 1, uintptr(unsafe.Pointer(&prev))); r == 0 {
		t.Fatal(e)
	}
	windows.WaitForSingleObject(s.q.sem, 0)
	if prev > 1 {
		t.Errorf("%d wake-ups pending after 1000 posts with one dead waiter registered, want at most 1", prev)
	}
	// A waiter goes to sleep (it registers as the second waiter) and a
	// Post from a goroutine wakes it.
	done := make(chan error, 1)
	go func() { done <- s.Wait(context.Background()) }()
	for s.Waiters() < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
