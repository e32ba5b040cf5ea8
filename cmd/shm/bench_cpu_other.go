//go:build unix && !linux

package main

import (
	"fmt"
	"runtime"
	"time"
)

// processCPUHow names the source of processCPU: none here.
const processCPUHow = ""

// processCPU is not available here: the idle row falls back to the
// waiter's own getrusage figure.
func processCPU(int) (time.Duration, error) {
	return 0, fmt.Errorf("per-thread CPU time of another process: not available on %s", runtime.GOOS)
}
