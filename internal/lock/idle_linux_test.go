package lock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
	"golang.org/x/sys/unix"
)

func init() { helpers["idlewait"] = idleWaitChild }

// idleWaitChild says "waiting ADDR", ADDR being the futex word it will
// sleep on, and then waits on semaphore A or the mutex (args[0]) until
// the parent releases it.
func idleWaitChild(args []string) int {
	mem, f := childMem()
	ctx, cancel := ctxFor(30 * time.Second)
	defer cancel()
	switch args[0] {
	case "semaphore":
		s := childSem(mem, offSemA)
		say(fmt.Sprintf("waiting %#x", uintptr(unsafe.Pointer(semValueHalf(u64(mem, offSemA))))))
		if err := s.Wait(ctx); err != nil {
			fail("Wait: %v", err)
		}
	case "mutex":
		m, o := childMutex(mem, f)
		defer o.Close()
		say(fmt.Sprintf("waiting %#x", uintptr(unsafe.Pointer(u32(mem, offMutex)))))
		if err := m.Lock(ctx); err != nil {
			fail("Lock: %v", err)
		}
		m.Unlock()
	}
	return 0
}

// procFields returns the fields of /proc/PID[/task/TID]/stat after the
// command, the first being the state.
func procFields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	fields, err := procFields(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// After the command: state is field 3, utime 14, stime 15.
	ut, err1 := strconv.Atoi(fields[14-3])
	st, err2 := strconv.Atoi(fields[15-3])
	if err1 != nil || err2 != nil {
		t.Fatalf("parsing /proc/%d/stat: %q", pid, fields)
	}
	return ut + st
}

// sleeperOn returns the thread of pid that is in a system call whose
// first argument is addr (a futex wait on that word), from
// /proc/PID/task/*/syscall, or 0.
func sleeperOn(pid int, addr string) int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if fields := strings.Fields(string(b)); len(fields) > 1 && fields[0] == strconv.Itoa(unix.SYS_FUTEX) && fields[1] == addr {
			tid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return tid
		}
	}
	return 0
}

// switches returns how many times thread tid of pid has been switched
// out (voluntary and not), from /proc/PID/task/TID/status: a thread that
// stays asleep adds none.
func switches(t *testing.T, pid, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
			c, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: %q", k, v)
			}
			n += c
		}
	}
	return n
}

// TestIdleWaiterSleeps: an idle waiter sleeps in the kernel on its word
// and does not wake while nothing happens: with the sleep slices made
// longer than the test (so that their ends, which cost an idle waiter
// some CPU by design, cannot be mistaken for spinning), the thread found
// asleep in futex on the word is still asleep there, not switched in once,
// after an observation window. A spinning or polling waiter would be
// switched in and out all the time. The CPU the child used meanwhile is
// logged, not asserted (it depends on the machine's load).
func TestIdleWaiterSleeps(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v): polling waiters wake by design", futex.Kind(), err)
	}
	if e := os.Getenv("SHM_TEST_EMULATOR"); e != "" {
		// qemu-user runs the guest's futex call as the host's, so the
		// thread's /proc/PID/task/TID/syscall shows the host's system
		// call number, never the guest's SYS_FUTEX the check matches.
		t.Skipf("under %s: /proc/PID/task/TID/syscall shows the host's system call numbers, not this architecture's SYS_FUTEX (%d)", e, unix.SYS_FUTEX)
	}
	withSlices(t, time.Hour)
	for _, kind := range []string{"semaphore", "mutex"} {
		t.Run(kind, func(t *testing.T) {
			f, mem := sharedMem(t)
			var m *Mutex
			if kind == "mutex" {
				o, err := NewFileOwner(f)
				if err != nil {
					t.Fatal(err)
				}
				defer o.Close()
				m, _ = NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
				if err := m.Lock(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			c := startChild(t, f, "idlewait", kind)
			line, err := c.out.ReadString('\n')
			addr, ok := strings.CutPrefix(strings.TrimSpace(line), "waiting ")
			if err != nil || !ok {
				t.Fatalf("child said %q (%v), want waiting ADDR", line, err)
			}
			pid := c.cmd.Process.Pid
			// Past the spin, into the kernel, however long a loaded
			// machine takes to get there.
			var tid int
			waitFor(t, func() bool { tid = sleeperOn(pid, addr); return tid != 0 })
			before, ticks := switches(t, pid, tid), cpuTicks(t, pid)
			time.Sleep(300 * time.Millisecond) // the window observed, not a synchronisation
			after, used := switches(t, pid, tid), cpuTicks(t, pid)-ticks
			still := sleeperOn(pid, addr)
			if kind == "mutex" {
				m.Unlock()
			} else {
				childSem(mem, offSemA).Post()
			}
			c.wait(t)
			t.Logf("%s waiter: %d clock ticks of CPU in the 300ms window (all threads)", kind, used)
			if still != tid || after != before {
				t.Fatalf("idle %s waiter: thread %d asleep on %s with %d switches; after the window thread %d asleep there, %d switches", kind, tid, addr, before, still, after)
			}
		})
	}
}
