package lock

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/cpeer"
	"github.com/shmkit/shm/internal/futex"
	"golang.org/x/sys/unix"
)

// noSpinEnv turns spinning off in children.
const noSpinEnv = "LOCK_TEST_NOSPIN"

func init() {
	helpers["pipepong"] = pipePongChild
	helpers["sockpong"] = sockPongChild
	if os.Getenv(noSpinEnv) != "" {
		spinning = false
	}
}

// cBench builds the C peer (internal/cpeer) once with the system cc; the
// binary is removed when the test binary exits.
var cBench = sync.OnceValues(func() (*cpeer.Peer, error) {
	p, err := cpeer.Build()
	if err != nil {
		return nil, err
	}
	atExit = append(atExit, func() { p.Close() })
	return p, nil
})

// runCBench runs a cbench mode for n operations and returns ns per op.
func runCBench(tb testing.TB, mode string, n int) float64 {
	tb.Helper()
	p, err := cBench()
	if err != nil {
		tb.Skipf("no C baseline: %v", err)
	}
	ns, err := p.Run(mode, n)
	if err != nil {
		tb.Fatal(err)
	}
	return ns
}

// TestCBaselines checks that the C baselines build and run (or says why
// they are skipped), so the benchmarks' comparisons are not silently lost.
func TestCBaselines(t *testing.T) {
	if ns := runCBench(t, "mutex", 1000); ns <= 0 {
		t.Fatalf("cbench mutex: %v ns/op", ns)
	}
	if ns := runCBench(t, "sem", 100); ns <= 0 {
		t.Fatalf("cbench sem: %v ns/op", ns)
	}
}

// Baselines measured once per run with a fixed count, for ratio metrics.
var (
	baseSync = sync.OnceValue(func() float64 {
		var mu sync.Mutex
		const n = 2_000_000
		start := time.Now()
		for range n {
			mu.Lock()
			//lint:ignore SA2001 the bare Lock+Unlock cost is what is measured
			mu.Unlock()
		}
		return float64(time.Since(start).Nanoseconds()) / n
	})
	basePthread sync.Map // mode -> float64
)

func cBaseline(b *testing.B, mode string, n int) float64 {
	if v, ok := basePthread.Load(mode); ok {
		return v.(float64)
	}
	v := runCBench(b, mode, n)
	basePthread.Store(mode, v)
	return v
}

func benchMutex(b *testing.B) *Mutex {
	f, mem := sharedMem(b)
	o, err := NewFileOwner(f)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.Close() })
	m, err := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkMutexUncontended: Lock+Unlock with nobody else around, against
// sync.Mutex and a robust process-shared pthread mutex (C).
func BenchmarkMutexUncontended(b *testing.B) {
	b.Run("shm", func(b *testing.B) {
		m := benchMutex(b)
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.StopTimer()
		b.ReportMetric(ns/baseSync(), "x-sync.Mutex")
		if _, err := cBench(); err == nil {
			b.ReportMetric(ns/cBaseline(b, "mutex", 5_000_000), "x-pthread")
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		for b.Loop() {
			mu.Lock()
			//lint:ignore SA2001 the bare Lock+Unlock cost is what is measured
			mu.Unlock()
		}
	})
	b.Run("pthread-robust-pshared", func(b *testing.B) {
		b.ReportMetric(runCBench(b, "mutex", b.N), "ns/op")
	})
}

// BenchmarkSemaphoreUncontended: Post+Wait with a token always there.
func BenchmarkSemaphoreUncontended(b *testing.B) {
	_, mem := sharedMem(b)
	s := childSem(mem, offSemA)
	ctx := context.Background()
	for b.Loop() {
		s.Post()
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// pingPongNs runs n round trips over two semaphores with a child process.
func pingPongNs(b *testing.B, n int) float64 {
	return float64(pingPong(b, n).Nanoseconds()) / float64(n)
}

// BenchmarkPingPong: round trip between two processes (ns/op = one round
// trip), over two shm semaphores (futex and polling), two glibc sem_t (C),
// a pair of pipes and a Unix socketpair (Go).
func BenchmarkPingPong(b *testing.B) {
	for _, mode := range []string{"futex", "futex-nospin", "poll"} {
		b.Run("shm-"+mode, func(b *testing.B) {
			defer futex.ForceFallback(futex.Kind() == "poll")
			futex.ForceFallback(mode == "poll")
			if mode == "futex-nospin" {
				// Sleep and wake every time: the kernel path alone (the
				// child follows through the environment).
				defer func(old bool) { spinning = old }(spinning)
				spinning = false
				b.Setenv(noSpinEnv, "1")
			}
			if mode != "poll" && futex.Kind() == "poll" {
				b.Skipf("no OS wait/wake: %v", futex.Available())
			}
			ns := pingPongNs(b, b.N)
			b.ReportMetric(ns, "ns/op")
			if mode == "poll" {
				return
			}
			const n = 20_000
			if _, err := cBench(); err == nil {
				b.ReportMetric(ns/cBaseline(b, "sem", n), "x-sem_t")
			}
			b.ReportMetric(ns/pipeBaseline(b, n), "x-pipe")
			b.ReportMetric(ns/sockBaseline(b, n), "x-socketpair")
		})
	}
	b.Run("sem_t-glibc", func(b *testing.B) {
		b.ReportMetric(runCBench(b, "sem", b.N), "ns/op")
	})
	b.Run("pipe", func(b *testing.B) {
		b.ReportMetric(pipePingPong(b, b.N), "ns/op")
	})
	b.Run("socketpair", func(b *testing.B) {
		b.ReportMetric(sockPingPong(b, b.N), "ns/op")
	})
}

var (
	pipeBase, sockBase         float64
	pipeBaseOnce, sockBaseOnce sync.Once
)

// The baselines run with the benchmark's timer stopped: untimed hides
// the *testing.B from timing.
func pipeBaseline(b *testing.B, n int) float64 {
	pipeBaseOnce.Do(func() { pipeBase = pipePingPong(untimed{b}, n) })
	return pipeBase
}

func sockBaseline(b *testing.B, n int) float64 {
	sockBaseOnce.Do(func() { sockBase = sockPingPong(untimed{b}, n) })
	return sockBase
}

type untimed struct{ testing.TB }

// startRaw starts a helper with the given extra files (fd 3, 4, ...).
func startRaw(tb testing.TB, name string, n int, files ...*os.File) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name, helperArgsEnv+"="+strconv.Itoa(n))
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return cmd
}

// pipePingPong: one byte each way over two pipes, n times.
func pipePingPong(tb testing.TB, n int) float64 {
	r1, w1, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	timing(tb, false)
	defer timing(tb, false)
	cmd := startRaw(tb, "pipepong", n, r1, w2)
	r1.Close()
	w2.Close()
	defer w1.Close()
	defer r2.Close()
	return byteRoundTrips(tb, cmd, w1, r2, n)
}

func pipePongChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	return echo(os.NewFile(3, "r"), os.NewFile(4, "w"), n)
}

// sockPingPong: one byte each way over a Unix stream socketpair, n times.
func sockPingPong(tb testing.TB, n int) float64 {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	timing(tb, false)
	defer timing(tb, false)
	mine, theirs := os.NewFile(uintptr(fds[0]), "sock"), os.NewFile(uintptr(fds[1]), "sock")
	cmd := startRaw(tb, "sockpong", n, theirs)
	theirs.Close()
	conn, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	return byteRoundTrips(tb, cmd, conn, conn, n)
}

func sockPongChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	conn, err := net.FileConn(os.NewFile(3, "sock"))
	if err != nil {
		fail("%v", err)
	}
	return echo(conn, conn, n)
}

// byteRoundTrips sends a byte and reads the echo n times; it waits for
// the child's first echo before timing.
func byteRoundTrips(tb testing.TB, cmd *exec.Cmd, w io.Writer, r io.Reader, n int) float64 {
	buf := []byte{0}
	round := func() {
		if _, err := w.Write(buf); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			tb.Fatal(err)
		}
	}
	round() // the child is up
	timing(tb, true)
	start := time.Now()
	for range n {
		round()
	}
	d := time.Since(start)
	timing(tb, false)
	if err := cmd.Wait(); err != nil {
		tb.Fatal(err)
	}
	return float64(d.Nanoseconds()) / float64(n)
}

// echo copies n+1 single bytes from r back to w.
func echo(r io.Reader, w io.Writer, n int) int {
	buf := []byte{0}
	for range n + 1 {
		if _, err := io.ReadFull(r, buf); err != nil {
			fail("read: %v", err)
		}
		if _, err := w.Write(buf); err != nil {
			fail("write: %v", err)
		}
	}
	return 0
}
