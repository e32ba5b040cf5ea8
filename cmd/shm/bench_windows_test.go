package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// windowsReasons are the reasons a peer of the process-pair rows may go
// unmeasured on windows, each true there: no socketpair, no POSIX C
// peer, no AF_UNIX socket (wine 8.0) to make a net.UnixConn, no
// cross-process wait on an address for the wake pair.
var windowsReasons = regexp.MustCompile(`^(windows has no socketpair$|no C peer on windows: |no net\.UnixConn on this system \(.+\), and windows has no socketpair$|windows has no socketpair to hand a net\.UnixConn to a child|no kernel wait on an address here \(futex: no cross-process wait/wake on windows/)`)

// TestBenchProcessWindows runs `shm bench --only semaphore,ring,idle` as
// its own process, whose children are processes too (the semaphores, the
// rings, the os.Pipe peers and the idle waiters each in a child that
// inherited the object and the pipes), and checks that every row was
// measured, and every peer that was not says why, for a reason true on
// windows. No figure is asserted.
func TestBenchProcessWindows(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "bench", "--only", "semaphore,ring,idle", "--time", "100ms", "--json")
	cmd.Env = append(os.Environ(), runAsShmEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	t.Logf("shm bench:\n%s%s", stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("shm bench: %v", err)
	}
	if stderr.Len() > 0 {
		t.Errorf("shm bench wrote to stderr")
	}
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("shm bench --json: %v", err)
	}
	var names []string
	measuredPeers := map[string]int{}
	for _, r := range rep.Rows {
		names = append(names, r.Name)
		if r.NsPerOp == nil {
			t.Errorf("%s (peer %q): not measured: %s", r.Name, r.Peer, r.Note)
			continue
		}
		if r.Peer == "" {
			continue
		}
		if r.PeerNsPerOp != nil {
			measuredPeers[r.Name]++
			continue
		}
		why := r.Note
		if _, after, ok := strings.Cut(why, "peer not measured: "); ok {
			why = after
		}
		if !windowsReasons.MatchString(why) {
			t.Errorf("%s: peer %q not measured, saying %q: not a reason of windows", r.Name, r.Peer, r.Note)
		}
	}
	for _, want := range []string{"semaphore-pingpong", "semaphore-pingpong-paused-p50", "semaphore-pingpong-paused-p99",
		"semaphore-idle-waiter", "mutex-idle-waiter",
		"cacheline-roundtrip", "memcpy-1MiB", "ring-64B", "ring-64B-4senders", "ring-1KiB", "ring-64KiB",
		"ring-64KiB-peek", "ring-1MiB", "ring-roundtrip-64B-p50", "ring-roundtrip-64B-asleep-p50", "ring-roundtrip-64B-paused-p50",
		"ring-roundtrip-64B-p99", "ring-roundtrip-64B-asleep-p99", "ring-roundtrip-64B-paused-p99", "ring-idle-receiver"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s row", want)
		}
	}
	// The rows with peers have the os.Pipe peer measured.
	for _, name := range []string{"semaphore-pingpong", "semaphore-pingpong-paused-p50", "ring-64B", "ring-1KiB", "ring-64KiB", "ring-1MiB",
		"ring-64KiB-peek", "ring-roundtrip-64B-p50", "ring-roundtrip-64B-asleep-p99"} {
		if measuredPeers[name] == 0 {
			t.Errorf("%s: no peer measured", name)
		}
	}
}
