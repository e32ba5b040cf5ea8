//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestKeepaliveSIGTERM checks that shm keepalive stops cleanly on SIGTERM
// (the scripts' kill command only sends SIGINT and SIGKILL).
func TestKeepaliveSIGTERM(t *testing.T) {
	bin, err := exec.LookPath("shm") // installed in PATH by testscript.Main
	if err != nil {
		t.Skipf("the shm command is not in PATH: %v", err)
	}
	name := "/shmtest-" + runID + "-term"
	o, err := shm.Create(name, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	defer shm.Unlink(name)
	before, err := shm.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := o.Path(); err == nil && p != name {
		old := time.Now().Add(-72 * time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		before.Atime = old
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "keepalive", "--every", "20ms", name)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := shm.Stat(name)
		if err == nil && info.Atime.After(before.Atime) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalive did not touch %s within 10s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("keepalive after SIGTERM: %v; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "touched "+name) || !strings.Contains(stdout.String(), "stopped: 1 object(s)") {
		t.Errorf("keepalive output %q; want refreshes and the stop", stdout.String())
	}
}
