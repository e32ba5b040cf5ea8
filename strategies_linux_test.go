package shm_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/shmdebug"
)

// anonSuite is the part of the suite that every anonymous strategy must
// pass.
const anonSuite = "^(TestCreateAnon|TestCreateAnonZeroThenTruncate|TestCreateAnonBadSize|TestMapErrors|TestMappingReadWriteAt|TestMappingFault|TestCloseIdempotentConcurrent|TestMappingOutlivesObject|TestNoFDLeak|TestNewObjectAdopts|TestPassExec|TestSendReceive|TestReceiveBadPeers|TestStrategyIsForced|TestMapPopulate)$"

// anonRouteEnv returns the environment entry that forces CreateAnon's
// route in a child: SHMDEBUG=anon=... for the Linux routes an operator
// may force (keeping the other settings of this process's SHMDEBUG), the
// test seam shm.TestAnonEnv for the other systems' file dialects rooted in
// /dev/shm. "" forces nothing.
func anonRouteEnv(route string) string {
	switch route {
	case "":
		return shm.TestAnonEnv + "="
	case "memfd", "tmpfile", "random":
		s, _ := shmdebug.Get()
		s.Anon = route
		return shmdebug.Var + "=" + s.String()
	}
	return shm.TestAnonEnv + "=" + route
}

// forcedAnonRoute returns the route this process was told to force, or "".
func forcedAnonRoute() string {
	if r := os.Getenv(shm.TestAnonEnv); r != "" {
		return r
	}
	s, _ := shmdebug.Get()
	return s.Anon
}

// TestForcedStrategies runs the anonymous-object suite once per Linux
// strategy, and once per other OS's file dialect rooted in /dev/shm, by
// re-running this test binary with the route forced (the children it
// starts inherit the setting).
func TestForcedStrategies(t *testing.T) {
	if forcedAnonRoute() != "" {
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
			env := anonRouteEnv(s)
			cmd.Env = append(os.Environ(), env)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("suite with %s: %v\n%s", env, err, out)
			}
			if !strings.Contains(string(out), "PASS") {
				t.Fatalf("suite with %s ran nothing:\n%s", env, out)
			}
		})
	}
}

// TestStrategyIsForced checks, inside a forced run, that the strategy
// asked for is the one used.
func TestStrategyIsForced(t *testing.T) {
	want := forcedAnonRoute()
	if want == "" {
		t.Skip("no route is forced (SHMDEBUG=anon=... or " + shm.TestAnonEnv + ")")
	}
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got := o.Strategy()
	if got != want && got != "random-"+want && !(want == "random" && got == "random-linux") {
		t.Errorf("route %s forced, strategy %q", want, got)
	}
}

// TestUnknownStrategy: SHMDEBUG=anon=bogus is ignored (shm doctor reports
// it), as GODEBUG ignores what it does not know: CreateAnon takes the
// route it takes with nothing forced.
func TestUnknownStrategy(t *testing.T) {
	if forcedAnonRoute() != "" {
		t.Skip("a strategy is forced in this run")
	}
	var got [2]string
	for i, env := range []string{shmdebug.Var + "=", shmdebug.Var + "=anon=bogus"} {
		cmd := helperCommand(t, "print-strategy")
		cmd.Env = append(cmd.Env, env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", env, err, out)
		}
		got[i] = string(out)
	}
	if got[0] != got[1] || got[0] == "" {
		t.Errorf("strategy %q with SHMDEBUG unset, %q with anon=bogus", got[0], got[1])
	}
}
