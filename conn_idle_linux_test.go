package shm_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

func init() { registerHelper("conn-idle-echo", helperConnIdleEcho) }

// helperConnIdleEcho dials args[0], says ready and the address of the
// wake word its reader sleeps on, then echoes until the end of stream.
func helperConnIdleEcho(args []string) int {
	c, err := shm.Dial(context.Background(), args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	addr, _ := shm.ConnReadWake(c)
	fmt.Printf("ready\n%#x\n", addr)
	if _, err := io.Copy(c, c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// procCPU returns the CPU time all threads of process pid have run, from
// /proc/PID/task/*/schedstat (nanoseconds; threads that ended are not
// counted).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if fields := strings.Fields(string(b)); len(fields) > 0 {
			ns, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", f, b)
			}
			sum += time.Duration(ns)
		}
	}
	return sum
}

// TestConnIdleReadersSleep: both ends of a connection between two
// processes blocked in Read. Each reader has said in its ring that it
// sleeps and sleeps in the kernel on that word (futex), not spinning or
// polling; the child's CPU over a five-second window is logged, not
// asserted (an idle ring receiver wakes every five seconds to probe its peer).
// A write then wakes each side in turn.
func TestConnIdleReadersSleep(t *testing.T) {
	path := socketPath(t)
	ln, err := shm.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd, out := startHelper(t, "conn-idle-echo", path)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	childAddr, err := strconv.ParseUint(strings.TrimSpace(line), 0, 64)
	if err != nil {
		t.Fatalf("child said %q", line)
	}
	s, err := ln.AcceptShm()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 16)
		n, err := s.Read(b)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(b[:n])
	}()
	addr, _ := shm.ConnReadWake(s)
	pid := cmd.Process.Pid
	for _, w := range []struct {
		pid  int
		addr uintptr
	}{{pid, uintptr(childAddr)}, {os.Getpid(), addr}} {
		if _, observable := asleepOn(w.pid, w.addr); !observable {
			t.Skip("cannot read /proc/PID/task/*/syscall (or waits poll)")
		}
		// Past the spin, into the kernel, however long a loaded machine
		// takes to get there.
		settle(t, func() bool { a, _ := asleepOn(w.pid, w.addr); return a }, func() string {
			return fmt.Sprintf("no thread of process %d asleep on the reader's wake word %#x", w.pid, w.addr)
		})
	}
	if _, armed := shm.ConnReadWake(s); !armed {
		t.Error("the reader sleeps without having said so in the ring")
	}
	window := 5 * time.Second
	if testing.Short() {
		window = time.Second
	}
	cpu := procCPU(t, pid)
	time.Sleep(window) // the window measured, not a synchronisation
	used := procCPU(t, pid) - cpu
	t.Logf("idle connection: the child (both rings, all threads) ran %v in a %v window: %.4f%% of a CPU", used, window, 100*used.Seconds()/window.Seconds())
	if _, err := s.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "ping" {
		t.Fatalf("echo: %q", g)
	}
	s.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}
