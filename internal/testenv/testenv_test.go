package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRaceExitSleep checks that a child started afterwards sees the
// setting, added to what GORACE held, and that a GORACE which already
// chose atexit_sleep_ms keeps its choice.
func TestNoRaceExitSleep(t *testing.T) {
	for _, c := range []struct{ before, want string }{
		{"", "atexit_sleep_ms=0"},
		{"halt_on_error=1", "halt_on_error=1 atexit_sleep_ms=0"},
		{"atexit_sleep_ms=5", "atexit_sleep_ms=5"},
	} {
		t.Setenv("GORACE", c.before)
		NoRaceExitSleep()
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skipf("no sh to start a child with: %v", err)
		}
		out, err := exec.Command(sh, "-c", `printf %s "$GORACE"`).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("GORACE=%q before: the child saw %q, want %q", c.before, got, c.want)
		}
	}
}
