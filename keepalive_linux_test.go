package shm_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// atime returns path's last access time.
func atime(t *testing.T, path string) time.Time {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Unix())
}

// age sets path's access and modification times back by d.
func age(t *testing.T, path string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// waitFresh waits until path was accessed within the last minute.
func waitFresh(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if time.Since(atime(t, path)) < time.Minute {
			return
		}
	}
	t.Fatalf("%s was not touched by KeepAlive", path)
}

// keepAlive runs o.KeepAlive every 20 ms until the test ends.
func keepAlive(t *testing.T, o *shm.Object) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.KeepAlive(ctx, 20*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("KeepAlive: %v", err)
		}
	})
	return done
}

func TestTouch(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	p, _ := o.Path()
	age(t, p, 30*24*time.Hour)
	if err := o.Touch(); err != nil {
		t.Fatal(err)
	}
	if since := time.Since(atime(t, p)); since > time.Minute {
		t.Errorf("after Touch the access time is %v old", since)
	}
	o.Close()
	if err := o.Touch(); err == nil {
		t.Error("Touch on a closed object succeeded")
	}
}

func TestKeepAliveSeesRemoval(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- o.KeepAlive(ctx, 10*time.Millisecond) }()
	time.Sleep(30 * time.Millisecond)
	start := time.Now()
	if err := shm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, shm.ErrNameLost) {
		t.Fatalf("KeepAlive after the name was removed: %v, want ErrNameLost", err)
	}
	// ErrNameLost before the 10 s context ended is the point; how soon
	// depends on the machine's load.
	t.Logf("KeepAlive noticed in %v", time.Since(start))
}

func TestCheckSeesReplacement(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Check(); err != nil {
		t.Fatalf("Check of a fresh object: %v", err)
	}
	shm.Unlink(name)
	other, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := o.Check(); !errors.Is(err, shm.ErrNameLost) {
		t.Errorf("Check after the name was given to another object: %v, want ErrNameLost", err)
	}
	if err := other.Check(); err != nil {
		t.Errorf("Check of the new object: %v", err)
	}
}

func TestKeepAliveEnds(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p, _ := o.Path()
	age(t, p, time.Hour)
	go func() { done <- o.KeepAlive(ctx, time.Hour) }()
	waitFresh(t, p)
	// While it runs it holds a shared flock: an exclusive one fails.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Errorf("exclusive flock while KeepAlive runs: %v, want EWOULDBLOCK", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("KeepAlive after cancel: %v, want context.Canceled", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Errorf("exclusive flock after KeepAlive ended: %v", err)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)

	go func() { done <- o.KeepAlive(context.Background(), time.Hour) }()
	time.Sleep(20 * time.Millisecond)
	o.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("KeepAlive after Close: %v, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("KeepAlive did not return after Close")
	}
	if err := o.KeepAlive(context.Background(), -time.Second); err == nil {
		t.Error("KeepAlive with a negative period succeeded")
	}
}

// cleanerScenario makes two named objects under the dialect goos rooted in
// a temporary directory, keeps the first alive and abandons the second,
// sets both back by 8 days, runs clean, and returns the objects and
// their paths.
func cleanerScenario(t *testing.T, goos string, clean func(dir string)) (kept, abandoned *shm.Object, keptPath, abandonedPath string) {
	dir := t.TempDir()
	restore, err := shm.UseDialect(goos, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
	kept, err = shm.Create("/kept", 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kept.Close() })
	abandoned, err = shm.Create("/abandoned", 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { abandoned.Close() })
	keptPath, _ = kept.Path()
	abandonedPath, _ = abandoned.Path()
	age(t, keptPath, 8*24*time.Hour)
	age(t, abandonedPath, 8*24*time.Hour)
	keepAlive(t, kept)
	waitFresh(t, keptPath)
	clean(dir)
	return
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// TestOpenBSDDaily plays OpenBSD's daily(8) /tmp rule, before and after
// the 2025 exception for *.shm and *.sem, against objects made with the
// OpenBSD dialect (/tmp/<sha256>.shm) in a temporary directory. GNU find
// spells BSD's -x as -xdev.
func TestOpenBSDDaily(t *testing.T) {
	if _, err := exec.LookPath("find"); err != nil {
		t.Skipf("no find(1): %v", err)
	}
	run := func(t *testing.T, dir string, args ...string) {
		cmd := exec.Command("find", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("find %v: %v\n%s", args, err, out)
		}
	}
	t.Run("daily-1.95", func(t *testing.T) {
		kept, abandoned, kp, ap := cleanerScenario(t, "openbsd", func(dir string) {
			// GNU find refuses -prune with -delete unless -depth is
			// explicit (BSD find just ignores the prune there too).
			run(t, dir, ".", "-xdev", "-depth", "-type", "f", "-atime", "+7", "-delete")
		})
		if !exists(kp) {
			t.Error("daily deleted the kept-alive object")
		}
		if exists(ap) {
			t.Error("daily spared the abandoned object: the scenario did not age it")
		}
		if err := kept.Check(); err != nil {
			t.Errorf("Check of the kept object: %v", err)
		}
		if err := abandoned.Check(); !errors.Is(err, shm.ErrNameLost) {
			t.Errorf("Check of the deleted object: %v, want ErrNameLost", err)
		}
	})
	t.Run("daily-1.101", func(t *testing.T) {
		_, abandoned, kp, ap := cleanerScenario(t, "openbsd", func(dir string) {
			// GNU find refuses -prune with -delete unless -depth is
			// explicit (BSD find just ignores the prune there too).
			run(t, dir, ".", "-xdev", "-depth",
				"(", "-path", "./ssh-*", "-o", "-path", "./.X11-unix", "-o", "-path", "./.ICE-unix", "-o", "-path", "./tmux-*", ")", "-prune", "-o",
				"-type", "f", "-and", "!", "-path", "./*.s[eh]m", "-atime", "+7", "-delete")
		})
		if !exists(kp) || !exists(ap) {
			t.Errorf("daily 1.101 deleted a .shm file (kept %v, abandoned %v)", exists(kp), exists(ap))
		}
		if err := abandoned.Check(); err != nil {
			t.Errorf("Check of the spared object: %v", err)
		}
	})
}

// systemdVersion returns systemd-tmpfiles' version number, or 0.
func systemdVersion() int {
	out, err := exec.Command("systemd-tmpfiles", "--version").Output()
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`systemd (\d+)`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestSystemdTmpfiles runs the real systemd-tmpfiles --clean with an age
// rule on a temporary directory. The rule ages by access and modification
// time only ("am:"), because setting times back (as the test must) makes
// the change time new.
func TestSystemdTmpfiles(t *testing.T) {
	v := systemdVersion()
	if v == 0 {
		t.Skip("systemd-tmpfiles is not installed (.ci/run installs the systemd package)")
	}
	clean := func(t *testing.T, dir string) {
		conf := filepath.Join(t.TempDir(), "shm-test.conf")
		if err := os.WriteFile(conf, []byte("d "+dir+" - - - am:7d\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("systemd-tmpfiles", "--clean", conf).CombinedOutput(); err != nil {
			t.Fatalf("systemd-tmpfiles --clean: %v\n%s", err, out)
		}
	}
	t.Run("age", func(t *testing.T) {
		kept, abandoned, kp, ap := cleanerScenario(t, "linux", func(dir string) { clean(t, dir) })
		if !exists(kp) {
			t.Error("tmpfiles deleted the kept-alive object")
		}
		if exists(ap) {
			t.Error("tmpfiles spared the abandoned object: the scenario did not age it")
		}
		if err := kept.Check(); err != nil {
			t.Errorf("Check of the kept object: %v", err)
		}
		if err := abandoned.Check(); !errors.Is(err, shm.ErrNameLost) {
			t.Errorf("Check of the deleted object: %v, want ErrNameLost", err)
		}
	})
	t.Run("flock", func(t *testing.T) {
		// An old object whose times are not refreshed, under a shared
		// flock only (as KeepAlive holds between touches).
		dir := t.TempDir()
		restore, err := shm.UseDialect("linux", dir)
		if err != nil {
			t.Fatal(err)
		}
		defer restore()
		o, err := shm.Create("/locked", 4096, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		p, _ := o.Path()
		if err := unix.Flock(shm.RawFD(o), unix.LOCK_SH); err != nil {
			t.Fatal(err)
		}
		age(t, p, 8*24*time.Hour)
		clean(t, dir)
		// systemd honours BSD locks on files since v254 (PR 27029); before,
		// only on directories.
		switch {
		case v >= 254 && !exists(p):
			t.Errorf("systemd %d deleted a file under a shared flock", v)
		case v < 254 && exists(p):
			t.Errorf("systemd %d spared an aged file under a flock; expected it to honour directory locks only", v)
		case v < 254:
			t.Logf("systemd %d ignores flocks on files (only v254+ honours them): KeepAlive's periodic touch is what protects objects here", v)
		}
	})
}

// TestKeepAliveRetriesFlock: a shared flock that conflicts with another
// process's exclusive one at the start is taken at a later refresh, once
// the exclusive one is gone (issue 9, item 9: the doc said so, the code
// tried once).
func TestKeepAliveRetriesFlock(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	p, err := o.Path()
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.Open(p) // another open file description
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	touched := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- o.KeepAlive(ctx, 5*time.Millisecond, shm.OnRefresh(func(time.Time) {
			select {
			case touched <- struct{}{}:
			default:
			}
		}))
	}()
	<-touched // running without the lock
	if err := unix.Flock(int(other.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			break // KeepAlive holds its shared lock now
		}
		if err != nil {
			t.Fatal(err)
		}
		unix.Flock(int(other.Fd()), unix.LOCK_UN)
		if time.Now().After(deadline) {
			t.Fatal("KeepAlive never took its shared flock after the exclusive one was released")
		}
		select {
		case <-touched:
		case err := <-done:
			t.Fatalf("KeepAlive ended: %v", err)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("KeepAlive after cancel: %v", err)
	}
}

// flockedByOthers reports whether a shared flock is held on the file at p
// by some open file description: an exclusive one through a fresh open of
// p then fails.
func flockedByOthers(t *testing.T, p string) bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// keepAliveStarted runs o.KeepAlive(ctx) in a goroutine and returns, once
// it has refreshed the object once (it takes its lock before that), the
// channel of its result.
func keepAliveStarted(ctx context.Context, o *shm.Object) chan error {
	refreshed := make(chan struct{})
	done := make(chan error, 1)
	var once sync.Once
	go func() {
		done <- o.KeepAlive(ctx, time.Hour, shm.OnRefresh(func(time.Time) { once.Do(func() { close(refreshed) }) }))
	}()
	select {
	case <-refreshed:
	case err := <-done:
		done <- err
	}
	return done
}

// TestKeepAliveLocksOfItsOwn: each KeepAlive holds its flock through a
// descriptor of its own. Two on one object (or a parent's and a child's
// on the object passed to it, which share its open file description):
// the first one ending leaves the other's lock in place. And a KeepAlive
// ended by the object's Close releases its lock though a Mapping of the
// object, whose descriptor shares that description, stays open.
func TestKeepAliveLocksOfItsOwn(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Unlink(name)
	p, err := o.Path()
	if err != nil {
		t.Fatal(err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	first := keepAliveStarted(ctx1, o)
	second := keepAliveStarted(context.Background(), o)
	if !flockedByOthers(t, p) {
		t.Fatal("no flock while two KeepAlives run")
	}
	cancel1()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first KeepAlive: %v", err)
	}
	if !flockedByOthers(t, p) {
		t.Error("the first KeepAlive's end released the second one's flock")
	}
	o.Close()
	if err := <-second; err != nil {
		t.Fatalf("the second KeepAlive, ended by Close: %v", err)
	}
	if flockedByOthers(t, p) {
		t.Error("a flock is still held after every KeepAlive returned (kept through the Mapping's descriptor)")
	}
}
