package lock

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

func init() { helpers["idlewait"] = idleWaitChild }

// idleWaitChild says "waiting" and then waits on semaphore A or the mutex
// (args[0]) until the parent releases it.
func idleWaitChild(args []string) int {
	mem, f := childMem()
	ctx, cancel := ctxFor(30 * time.Second)
	defer cancel()
	switch args[0] {
	case "semaphore":
		s := childSem(mem, offSemA)
		say("waiting")
		if err := s.Wait(ctx); err != nil {
			fail("Wait: %v", err)
		}
	case "mutex":
		m, o := childMutex(mem, f)
		defer o.Close()
		say("waiting")
		if err := m.Lock(ctx); err != nil {
			fail("Lock: %v", err)
		}
		m.Unlock()
	}
	return 0
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command: state is field 3, utime 14, stime 15.
	ut, err1 := strconv.Atoi(fields[14-3])
	st, err2 := strconv.Atoi(fields[15-3])
	if err1 != nil || err2 != nil {
		t.Fatalf("parsing %q", s)
	}
	return ut + st
}

// TestIdleWaiterUsesNoCPU: a waiter asleep in the kernel for 300 ms burns
// (almost) no CPU. A spinning or polling waiter would use tens of ticks.
func TestIdleWaiterUsesNoCPU(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v): polling waiters use CPU by design", futex.Kind(), err)
	}
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
			c.expect(t, "waiting")
			pid := c.cmd.Process.Pid
			// Past the spin, into the kernel: every thread of the child
			// asleep, however long a loaded machine takes to get there.
			waitAsleep(t, pid)
			before := cpuTicks(t, pid)
			time.Sleep(300 * time.Millisecond)
			used := cpuTicks(t, pid) - before
			if kind == "mutex" {
				m.Unlock()
			} else {
				childSem(mem, offSemA).Post()
			}
			c.wait(t)
			t.Logf("%s waiter used %d clock ticks of CPU in 300ms", kind, used)
			// Generous: 8 ticks (80 ms at 100 Hz) out of 30 possible.
			if used > 8 {
				t.Fatalf("idle %s waiter used %d ticks of CPU in 300ms", kind, used)
			}
		})
	}
}

// waitAsleep waits until every thread of pid is asleep (state S) in two
// readings in a row, failing after a minute.
func waitAsleep(t *testing.T, pid int) {
	t.Helper()
	row := 0
	for start := time.Now(); row < 2; time.Sleep(time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("child %d not asleep after a minute", pid)
		}
		if allAsleep(t, pid) {
			row++
		} else {
			row = 0
		}
	}
}

func allAsleep(t *testing.T, pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false // a thread that just ended
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) == 0 || fields[0] != "S" {
			return false
		}
	}
	return true
}
