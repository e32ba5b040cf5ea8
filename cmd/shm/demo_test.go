//go:build !wasip1

package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

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
