// Package testenv holds what the test binaries of this module set up alike
// before their tests start children. Only tests import it.
package testenv

import (
	"os"
	"strings"
)

// NoRaceExitSleep sets GORACE for the children this process starts so
// that, under -race, they exit at once instead of after the race
// runtime's default one-second atexit_sleep_ms: a test that waits for its
// children would otherwise wait that long for each. The race runtime read
// this process's own setting at start-up, so only children see it. A
// GORACE that already names atexit_sleep_ms is left as it is.
func NoRaceExitSleep() {
	if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
}
