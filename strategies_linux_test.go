package shm_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

// anonSuite is the part of the suite that every anonymous strategy must
// pass.
const anonSuite = "^(TestCreateAnon|TestCreateAnonZeroThenTruncate|TestCreateAnonBadSize|TestMapErrors|TestMappingReadWriteAt|TestMappingFault|TestCloseIdempotentConcurrent|TestMappingOutlivesObject|TestNoFDLeak|TestNewObjectAdopts|TestPassExec|TestSendReceive|TestReceiveBadPeers|TestStrategyIsForced|TestMapPopulate)$"

// TestForcedStrategies runs the anonymous-object suite once per Linux
// strategy, and once per other OS's file dialect rooted in /dev/shm, by
// re-running this test binary with SHM_ANON set (the children it starts
// inherit the setting).
func TestForcedStrategies(t *testing.T) {
	if os.Getenv("SHM_ANON") != "" {
		t.Skip("already running a forced strategy")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"memfd", "tmpfile", "random", "openbsd", "netbsd", "dragonfly", "solaris"} {
		t.Run(s, func(t *testing.T) {
			args := []string{"-test.run=" + anonSuite, "-test.short", "-test.count=1"}
			if testing.Verbose() {
				args = append(args, "-test.v")
			}
			cmd := exec.Command(exe, args...)
			cmd.Env = append(os.Environ(), "SHM_ANON="+s)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("suite with SHM_ANON=%s: %v\n%s", s, err, out)
			}
			if !strings.Contains(string(out), "PASS") {
				t.Fatalf("suite with SHM_ANON=%s ran nothing:\n%s", s, out)
			}
		})
	}
}

// TestStrategyIsForced checks, inside a forced run, that the strategy
// asked for is the one used.
func TestStrategyIsForced(t *testing.T) {
	want := os.Getenv("SHM_ANON")
	if want == "" {
		t.Skip("SHM_ANON is not set: nothing forced")
	}
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got := o.Strategy()
	if got != want && got != "random-"+want && !(want == "random" && got == "random-linux") {
		t.Errorf("SHM_ANON=%s gave strategy %q", want, got)
	}
}

func TestUnknownStrategy(t *testing.T) {
	if os.Getenv("SHM_ANON") != "" {
		t.Skip("a strategy is forced in this run")
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^TestStrategyIsForced$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SHM_ANON=bogus")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown strategy") {
		t.Errorf("SHM_ANON=bogus: %v\n%s", err, out)
	}
}
