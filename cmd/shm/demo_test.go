//go:build !wasip1

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/wine"
)

// runAsShmEnv set to 1 makes this test binary be the shm command (main)
// instead of running its tests. TestDemoProcess starts it so, and the
// demo's children, which run the same executable again, inherit it.
// Under wine, where testscript.Main cannot run (see TestMain), this is
// how the demo runs as real processes.
const runAsShmEnv = "SHM_TEST_RUN_AS_SHM"

// TestDemoProcess runs `shm demo` as its own process, whose children are
// processes too, and checks that every step was verified or skipped with
// a reason. On windows step 2 is skipped where the system has no AF_UNIX
// sockets (wine 8.0).
func TestDemoProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "demo")
	cmd.Env = append(os.Environ(), runAsShmEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	out := stdout.String()
	t.Logf("shm demo:\n%s%s", out, stderr.String())
	// A demo that failed must clean up too; one that failed before it
	// created its named object names none.
	if lerr := demoLeft(out); lerr != nil && (err == nil || demoCreated.MatchString(out)) {
		t.Error(lerr)
	}
	if err != nil {
		t.Fatalf("shm demo: %v", err)
	}
	if !regexp.MustCompile(`(?m)^demo passed: \d of 6 steps verified`).MatchString(out) {
		t.Errorf("shm demo exited 0 without saying it passed")
	}
	skipped := regexp.MustCompile(`(?m)^  skipped: `).FindAllString(out, -1)
	switch {
	case wine.Version() != "":
		if !strings.Contains(out, "demo passed: 5 of 6 steps verified") || !strings.Contains(out, "skipped step 2: this system has no AF_UNIX sockets") {
			t.Errorf("under wine the demo should verify every step but the socket's (wine has no AF_UNIX)")
		}
	case len(skipped) > 0:
		t.Logf("the demo skipped %d steps here (see above)", len(skipped))
	}
	if stderr.Len() > 0 {
		t.Errorf("shm demo wrote to stderr: %s", stderr.Bytes())
	}
}

// TestDemoLeft checks the check: an object the output names and that
// still exists is reported, a removed one is not, and output that names
// none is an error.
func TestDemoLeft(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skipf("%s has no named objects", runtime.GOOS)
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	name := "/shm-demo-" + hex.EncodeToString(b[:])
	out := "[3/6] named\n  parent: created " + name + " (a portable name) of 4.0 KiB\n"
	o, err := shm.Create(name, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := demoLeft(out); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("demoLeft with %s still there = %v, want an error naming it", name, err)
	}
	if err := shm.Unlink(name); err != nil && runtime.GOOS != "windows" {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		o.Close() // a section's name goes with its last handle
	}
	if err := demoLeft(out); err != nil {
		t.Errorf("demoLeft after the name was removed = %v, want nil", err)
	}
	if err := demoLeft("demo passed\n"); err == nil {
		t.Error("demoLeft of output naming no object = nil, want an error")
	}
}
