package lock

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shm/internal/testenv"
)

// helpers are the child processes a test can start by re-executing the
// test binary with helperEnv set to a name; helperArgsEnv carries their
// arguments.
var helpers = map[string]func(args []string) int{}

const (
	helperEnv     = "LOCK_TEST_HELPER"
	helperArgsEnv = "LOCK_TEST_ARGS"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		f, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(2)
		}
		os.Exit(f(strings.Fields(os.Getenv(helperArgsEnv))))
	}
	// Under -race, children exit without the race runtime's one-second sleep.
	testenv.NoRaceExitSleep()
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}

// atExit holds clean-ups of resources shared by several tests.
var atExit []func()
