package shm_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/shmdebug"
)

func init() { registerHelper("classic-peer", classicPeerChild) }

// classicPeerChild is the other process of TestClassicLocksSurviveCloses.
// On "check" it tries the mutex (it must be held, by a live holder), then
// waits for it with a deadline several probe intervals long (it must time
// out, not take the mutex over), and says "alive". On "go" it locks the
// mutex without a deadline (the holder unlocks) and says "got".
func classicPeerChild([]string) int {
	return serveMutex(1, func(mu *shm.Mutex, line string) (int, bool) {
		switch line {
		case "check":
			if ok, err := mu.TryLock(); ok || err != nil {
				fmt.Printf("TryLock = %v, %v: the holder looked dead\n", ok, err)
				return 0, true
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*shmProbe)
			err := mu.Lock(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				fmt.Printf("Lock = %v: the holder looked dead\n", err)
				return 0, true
			}
			fmt.Println("alive")
		case "go":
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := mu.Lock(ctx)
			cancel()
			if err != nil {
				fmt.Printf("Lock = %v\n", err)
				return 0, true
			}
			fmt.Println("got")
			mu.Unlock()
			return 0, true
		}
		return 0, false
	})
}

// shmProbe is the library's probe interval (lock.ProbeInterval).
const shmProbe = 50 * time.Millisecond

// TestClassicLocksSurviveCloses (issue 9, item 4): with classic fcntl
// locks, closing any descriptor of a file drops all of the process's locks
// on it. While this process holds a mutex through mapping A, it closes
// another mapping of the object, closes other Objects of it, Stats it, and
// drops a Mapping and Objects to the garbage collector; a peer process
// must still see the holder alive (and not take the mutex over), and get
// the mutex only once it is unlocked. The test re-runs itself with each
// fallback mechanism forced (SHMDEBUG=owner=...); the Linux OFD locks are
// immune by design.
func TestClassicLocksSurviveCloses(t *testing.T) {
	s, _ := shmdebug.Get()
	mech := s.Owner
	if mech == "" || mech == "ofd" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		for _, mech := range []string{"fcntl", "flock"} {
			t.Run(mech, func(t *testing.T) {
				cmd := exec.Command(exe, "-test.run=^TestClassicLocksSurviveCloses$", "-test.count=1", "-test.v")
				s, _ := shmdebug.Get()
				s.Owner = mech
				cmd.Env = append(os.Environ(), shmdebug.Var+"="+s.String(), shm.TestOwnerDirEnv+"="+filepath.Join(t.TempDir(), "owners"))
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.Contains(string(out), "--- PASS: TestClassicLocksSurviveCloses") {
					t.Fatalf("with %s: %v\n%s", s, err, out)
				}
			})
		}
		return
	}
	name := testName(t)
	o, err := shm.Create(name, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	a, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mu, err := a.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept0 := shm.LockKeptDescriptors()

	// Another mapping, closed.
	b, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Mutex(8); err != nil { // b gets a liveness owner too
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Other Objects of it, closed: opened by name, and adopted.
	o2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := o2.Close(); err != nil {
		t.Fatal(err)
	}
	path := "/dev/shm/" + strings.TrimPrefix(name, "/")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	o3, err := shm.NewObject(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := o3.Close(); err != nil {
		t.Fatal(err)
	}
	// Stat.
	if _, err := shm.Stat(name); err != nil {
		t.Fatal(err)
	}
	fds0 := countFDs()
	// Dropped to the garbage collector without Close: an Object without
	// a file, an adopted one (its *os.File has a finalizer), and a
	// Mapping (its duplicate descriptor is an *os.File).
	func() {
		o4, err := shm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o4.Map(); err != nil {
			t.Fatal(err)
		}
		g, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shm.NewObject(g); err != nil {
			t.Fatal(err)
		}
	}()
	// b's duplicate, o2's and o3's descriptors, then o4's, its mapping's
	// and the adopted file: the registry keeps each, the last three once
	// the collector has run their cleanups.
	// With flock (token files of their own) nothing need be kept: the
	// three dropped descriptors are closed.
	done := func() bool { return shm.LockKeptDescriptors() >= kept0+6 }
	if mech != "fcntl" {
		done = func() bool { return countFDs() <= fds0 }
	}
	settle(t, func() bool { runtime.GC(); return done() }, func() string {
		return fmt.Sprintf("after the drops the lock registry keeps %d descriptors (%d before), %d are open (%d before)",
			shm.LockKeptDescriptors(), kept0, countFDs(), fds0)
	})
	// Let the finalizers of whatever the collector found run too.
	runtime.GC()
	runtime.GC()

	cmd := helperCommand(t, "classic-peer")
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
	out := bufio.NewReader(stdout)
	line := func() string {
		s, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("peer: %v", err)
		}
		return strings.TrimSpace(s)
	}
	fmt.Fprintln(stdin, "check")
	if got := line(); got != "alive" {
		t.Fatalf("with SHMDEBUG owner=%s, after the other closes the peer says: %s", mech, got)
	}
	if err := mu.Unlock(); err != nil {
		t.Fatalf("Unlock: %v (the peer took the mutex over?)", err)
	}
	fmt.Fprintln(stdin, "go")
	if got := line(); got != "got" {
		t.Fatalf("peer, after the unlock: %s", got)
	}
	stdin.Close()
	// The last owner of the file releases what the registry kept.
	a.Close()
	if n := shm.LockKeptDescriptors(); n != kept0 && mech == "fcntl" {
		t.Errorf("the registry still keeps %d descriptors after the last mapping closed (%d before)", n, kept0)
	}
}
