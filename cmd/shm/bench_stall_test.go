//go:build unix

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/sockpair"
	"golang.org/x/sys/unix"
)

// stallEnv makes TestStallHelper, in a child, hold the inherited write
// end of a pipe without ever writing.
const stallEnv = "SHM_TEST_STALL_CHILD"

func TestStallHelper(t *testing.T) {
	if os.Getenv(stallEnv) == "" {
		t.Skip("the child of TestTimedRoundsStalled")
	}
	time.Sleep(time.Hour) // killed by the parent's watchdog
}

// TestTimedRoundsStalled: a child that stops answering while this process
// is blocked in a raw read (as byteRounds and the raw stream rows are)
// is killed when no round completes for benchStall, and the round fails
// saying so, instead of hanging the bench.
func TestTimedRoundsStalled(t *testing.T) {
	old := benchStall
	benchStall = 100 * time.Millisecond
	defer func() { benchStall = old }()
	p, err := sockpair.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	w := os.NewFile(uintptr(p[1]), "pipe")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStallHelper$")
	cmd.Env = append(os.Environ(), stallEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close() // only the child holds the write end now
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte{0}
	_, err = timedRounds(cmd, "stalled ping-pong", 0, 1, func() error { return readByte(p[0], buf) })
	if err == nil || !strings.Contains(err.Error(), "stalled ping-pong: the child made no progress for 100ms and was killed") {
		t.Fatalf("timedRounds with a silent child: %v", err)
	}
}
