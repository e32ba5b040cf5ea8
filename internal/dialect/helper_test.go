//go:build unix

package dialect

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shmkit/shm/internal/testenv"
)

// Tests that need real processes re-run this test binary as a helper: the
// environment variable helperEnv names the helper, helperArgsEnv holds its
// arguments, one per line.
const (
	helperEnv     = "DIALECT_TEST_HELPER"
	helperArgsEnv = "DIALECT_TEST_HELPER_ARGS"
)

// helpers maps a helper name to its body, which returns the exit code.
// Files register helpers in init.
var helpers = map[string]func(args []string) int{}

var (
	helpersMu   sync.Mutex
	helpersUsed = map[string]bool{}
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		fn, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown test helper %q\n", name)
			os.Exit(2)
		}
		os.Exit(fn(strings.Split(os.Getenv(helperArgsEnv), "\n")))
	}
	// Under -race, children exit without the race runtime's one-second sleep.
	testenv.NoRaceExitSleep()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.fuzz").Value.String() == "" {
		for name := range helpers {
			if !helpersUsed[name] {
				fmt.Fprintf(os.Stderr, "test helper %q is registered but no test runs it\n", name)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// helperCommand returns a command that runs helper name with args in a
// child process.
func helperCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	if _, ok := helpers[name]; !ok {
		t.Fatalf("no test helper %q", name)
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "\n") }) {
		t.Fatalf("helper arguments may not contain newlines: %q", args)
	}
	helpersMu.Lock()
	helpersUsed[name] = true
	helpersMu.Unlock()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name, helperArgsEnv+"="+strings.Join(args, "\n"))
	return cmd
}
