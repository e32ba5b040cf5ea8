//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// The tests below check that shm send and recv end on SIGTERM while they
// wait for a quiet stdin or a full stdout, which no context reaches. Each
// waits for the command to reach that state (a message in the ring, a
// thread in pipe_write), then signals it.

// ringObject creates a named object of size bytes for a ring, and maps it.
func ringObject(t *testing.T, suffix string, size int) (string, *shm.Mapping) {
	t.Helper()
	name := fmt.Sprintf("/shmtest-%s-%s", runID, suffix)
	o, err := shm.Create(name, int64(size), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Unlink(name) })
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return name, m
}

// startShm starts the shm command in PATH with args.
func startShm(t *testing.T, cmd *exec.Cmd) chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return done
}

// termAndWait sends SIGTERM to cmd and returns its exit error; a command
// still running a minute later fails the test (it ignored the signal).
func termAndWait(t *testing.T, cmd *exec.Cmd, done chan error, stderr *bytes.Buffer) error {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s still runs a minute after SIGTERM; stderr %q", strings.Join(cmd.Args, " "), stderr.String())
		return nil
	}
}

func wantInterrupted(t *testing.T, err error, stderr, want string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit after SIGTERM: %v; want status 1", err)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q; want it to say %q", stderr, want)
	}
}

// TestSendSIGTERMWaitingOnStdin: shm send that waits for its next line
// from a quiet producer ends on SIGTERM, saying how many it sent.
func TestSendSIGTERMWaitingOnStdin(t *testing.T) {
	bin, err := exec.LookPath("shm") // installed in PATH by testscript.Main
	if err != nil {
		t.Skipf("the shm command is not in PATH: %v", err)
	}
	name, m := ringObject(t, "sigsend", 64<<10)
	rx, err := m.Ring(0, len(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "send", name)
	cmd.Stdin, cmd.Stderr = pr, &stderr
	done := startShm(t, cmd)
	pr.Close()
	if _, err := pw.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	msg, err := rx.Receive(ctx, nil)
	cancel()
	if err != nil || string(msg) != "one" {
		t.Fatalf("the first message: %q, %v", msg, err)
	}
	// The command now reads stdin again, where nothing comes.
	err = termAndWait(t, cmd, done, &stderr)
	wantInterrupted(t, err, stderr.String(), "interrupted (1 messages sent)")
	// Its sender is gone: the stream ends.
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if msg, err := rx.Receive(ctx, nil); err == nil || !errors.Is(err, io.EOF) {
		t.Errorf("Receive after the sender ended: %q, %v; want io.EOF", msg, err)
	}
}

// TestRecvSIGTERMBlockedOnStdout: shm recv whose stdout is a pipe that
// nobody reads ends on SIGTERM, and takes no more messages from the ring.
func TestRecvSIGTERMBlockedOnStdout(t *testing.T) {
	bin, err := exec.LookPath("shm")
	if err != nil {
		t.Skipf("the shm command is not in PATH: %v", err)
	}
	name, m := ringObject(t, "sigrecv", 1<<20)
	tx, err := m.Ring(0, len(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 1023)
	sent := 0
	for {
		ok, err := tx.TrySend(line)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		sent++
	}
	full, err := tx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "recv", name)
	cmd.Stdout, cmd.Stderr = pw, &stderr
	done := startShm(t, cmd)
	pw.Close()
	// The ring holds more than a pipe does: the command takes some, then
	// blocks writing them.
	if !blockedInPipeWrite(t, cmd.Process.Pid) {
		t.Logf("no thread of the command seen in pipe_write (wchan unreadable here?); signalling anyway")
	}
	err = termAndWait(t, cmd, done, &stderr)
	wantInterrupted(t, err, stderr.String(), "interrupted (")
	after, err := tx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after.Used >= full.Used {
		t.Errorf("ring use %d bytes after recv, %d before: it took nothing", after.Used, full.Used)
	}
	if after.Used == 0 {
		t.Errorf("recv emptied the ring (%d messages) into a pipe nobody read", sent)
	}
}

// blockedInPipeWrite waits until a thread of process pid sleeps in
// pipe_write (or anon_pipe_write), and reports whether it saw one; it gives up after a minute
// of seeing none, or at once where /proc has no wchan to read.
func blockedInPipeWrite(t *testing.T, pid int) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		if err != nil || len(tasks) == 0 {
			return false
		}
		for _, p := range tasks {
			if b, err := os.ReadFile(p); err == nil && strings.HasSuffix(string(b), "pipe_write") { // anon_pipe_write on newer kernels
				return true
			}
		}
	}
	return false
}
