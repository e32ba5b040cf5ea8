//go:build unix

package dialect

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func init() {
	helpers["create"] = helperCreate
	helpers["hold-lock"] = helperHoldLock
}

// helperDialect rebuilds in a child the dialect rootedDialect made.
func helperDialect(goos, dir string) (*Dialect, error) {
	d, err := ForOS(goos)
	if err != nil {
		return nil, err
	}
	d = d.Rooted(dir)
	switch d.OS {
	case "netbsd":
		d.fsType = func(string) (string, error) { return "tmpfs", nil }
	case "solaris":
		d = d.LockRetry(10000, time.Millisecond)
	}
	return d, nil
}

// helperCreate (args: goos, dir, name, start file) waits for the start
// file, then creates name and prints "won" or "exist".
func helperCreate(args []string) int {
	if len(args) != 4 {
		fmt.Fprintf(os.Stderr, "create: want goos, dir, name, start file; got %q\n", args)
		return 2
	}
	d, err := helperDialect(args[0], args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(args[3]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "create: start file never appeared")
			return 1
		}
	}
	f, err := d.Create(args[2], 4096, 0o600, nil)
	switch {
	case err == nil:
		f.Close()
		fmt.Println("won")
	case errors.Is(err, fs.ErrExist):
		fmt.Println("exist")
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperHoldLock (args: dir, name) takes the solaris lock of name, says
// "locked" and waits to be killed (at most a minute).
func helperHoldLock(args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "hold-lock: want dir, name; got %q\n", args)
		return 2
	}
	d, err := helperDialect("solaris", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := d.lock(d.Dir, args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return 1
}

// TestCrossProcessCreate races Create of one name in several processes:
// exactly one wins, the others see EEXIST, and only the object remains.
func TestCrossProcessCreate(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const n = 4
		start := filepath.Join(t.TempDir(), "start")
		outs := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			cmd := helperCommand(t, "create", d.OS, d.Dir, "/race", start)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			wg.Go(func() {
				out, err := cmd.Output()
				outs[i] = strings.TrimSpace(string(out))
				if err != nil {
					errs[i] = fmt.Errorf("%v: %s", err, stderr.String())
				}
			})
		}
		time.Sleep(50 * time.Millisecond) // let the children start
		if err := os.WriteFile(start, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		won := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("child %d: %v", i, errs[i])
			}
			switch outs[i] {
			case "won":
				won++
			case "exist":
			default:
				t.Errorf("child %d said %q", i, outs[i])
			}
		}
		if won != 1 {
			t.Errorf("%d processes won, want exactly 1 (%q)", won, outs)
		}
		wantListing(t, d.Dir, relPath(t, d, "/race"))
	})
}

// TestSolarisLockHolderKilled kills a process holding the illumos lock
// file: the name is then stuck, in C as here, until the file is removed.
func TestSolarisLockHolderKilled(t *testing.T) {
	d := mustForOS(t, "solaris").Rooted(t.TempDir()).LockRetry(3, 10*time.Millisecond)
	cmd := helperCommand(t, "hold-lock", d.Dir, "/obj")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q, %v; stderr: %s", line, err, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	_, err = d.Open("/obj", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
	wantPathErr(t, err, "shm_open", "/obj", syscall.EEXIST)
	wantListing(t, d.Dir, ".SHMLobj")

	if err := os.Remove(filepath.Join(d.Dir, ".SHMLobj")); err != nil {
		t.Fatal(err)
	}
	f, err := d.Open("/obj", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
	if err != nil {
		t.Fatalf("Open after removing the stale lock: %v", err)
	}
	f.Close()
	wantListing(t, d.Dir, ".SHMDobj")
}
