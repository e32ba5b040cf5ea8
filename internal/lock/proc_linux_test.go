package lock

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
	"github.com/shmkit/shm/internal/shmdebug"
	"golang.org/x/sys/unix"
)

// Layout of the shared page used by the cross-process tests.
const (
	offMutex    = 0   // mutex word and state word
	offCounter  = 64  // uint64 incremented under the mutex
	offPairA    = 128 // two uint64 that must be equal whenever the mutex is free
	offPairB    = 136
	offSemA     = 192
	offSemB     = 256
	offSemC     = 320
	offProduced = 384 // uint64 counters for the producer/consumer test
	offConsumed = 392
	offFlags    = 448 // uint32 flags for coordinating children
	offErrors   = 512 // uint32 count of errors children saw
	sharedSize  = 4096
)

// sharedMem makes a memfd of sharedSize bytes mapped MAP_SHARED.
func sharedMem(t testing.TB) (*os.File, []byte) {
	t.Helper()
	fd, err := unix.MemfdCreate("lock-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "memfd:lock-test")
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(sharedSize); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return f, mem
}

func u32(mem []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
func u64(mem []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }

// child is a running helper process.
type child struct {
	cmd *exec.Cmd
	out *bufio.Reader // the child's stdout
}

// startChild re-executes the test binary as helper name with args,
// passing f as fd 3. The child inherits the polling mode and the owner
// mechanism of the test, and dies with the test process.
func startChild(t testing.TB, f *os.File, name string, args ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		helperEnv+"="+name,
		helperArgsEnv+"="+strings.Join(args, " "),
		shmdebug.Var+"="+map[bool]string{true: "futex=poll"}[futex.Kind() == "poll"],
		mechanismEnv+"="+forcedMechanism,
		sliceEnv+"="+sliceOverride,
	)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return c
}

// expect reads one line from the child and checks it.
func (c *child) expect(t testing.TB, want string) {
	t.Helper()
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("child %d: reading %q: %v", c.cmd.Process.Pid, want, err)
	}
	if got := strings.TrimSpace(line); got != want {
		t.Fatalf("child %d said %q, want %q", c.cmd.Process.Pid, got, want)
	}
}

// wait waits for the child to exit successfully.
func (c *child) wait(t testing.TB) {
	t.Helper()
	io.Copy(io.Discard, c.out)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child %d: %v", c.cmd.Process.Pid, err)
	}
}

// childMem maps fd 3 in a helper process.
func childMem() ([]byte, *os.File) {
	f := os.NewFile(3, "shared")
	mem, err := unix.Mmap(3, 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fail("mmap: %v", err)
	}
	return mem, f
}

// childMutex makes the helper's owner and mutex handle on the shared page.
func childMutex(mem []byte, f *os.File) (*Mutex, *FileOwner) {
	o, err := NewFileOwner(f)
	if err != nil {
		fail("owner: %v", err)
	}
	m, err := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
	if err != nil {
		fail("mutex: %v", err)
	}
	return m, o
}

func childSem(mem []byte, off int) *Semaphore {
	s, err := NewSemaphore(u64(mem, off))
	if err != nil {
		fail("semaphore: %v", err)
	}
	return s
}

// fail ends a helper process with a message.
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "helper %d: "+format+"\n", append([]any{os.Getpid()}, args...)...)
	os.Exit(1)
}

// say writes a line to the parent.
func say(s string) { fmt.Println(s) }

// ctxFor returns a context for a helper's waits: long enough never to end
// in a correct run, short enough for a wedge to fail the test.
func ctxFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// sliceEnv carries a lengthened sleep slice to children (see withSlices).
const sliceEnv = "LOCK_TEST_SLICE"

var sliceOverride = os.Getenv(sliceEnv)

func init() {
	if d, err := time.ParseDuration(sliceOverride); err == nil {
		semSleep, mutexSleep, watchedSleep = d, d, d
	}
}

// withSlices lengthens the sleep slices of this process and its children
// for the rest of the test, so that a lost wake-up stalls a waiter for d
// instead of being repaired by the next slice.
func withSlices(t *testing.T, d time.Duration) {
	oldSem, oldMutex, oldWatched, oldOverride := semSleep, mutexSleep, watchedSleep, sliceOverride
	semSleep, mutexSleep, watchedSleep, sliceOverride = d, d, d, d.String()
	t.Cleanup(func() { semSleep, mutexSleep, watchedSleep, sliceOverride = oldSem, oldMutex, oldWatched, oldOverride })
}

// both runs f with the OS wait/wake primitive and with polling forced;
// children follow the parent's mode.
func both(t *testing.T, f func(t *testing.T)) {
	defer futex.ForceFallback(futex.Kind() == "poll")
	t.Run("futex", func(t *testing.T) {
		if err := futex.Available(); err != nil {
			t.Skipf("no OS wait/wake: %v", err)
		}
		futex.ForceFallback(false)
		f(t)
	})
	t.Run("poll", func(t *testing.T) {
		futex.ForceFallback(true)
		f(t)
	})
}
