//go:build !unix && !windows

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

func kernelRelease() string { return "" }

// cPeerWhy is why the C peer is not run here: "" (it fails to build or
// run, and says why).
const cPeerWhy = ""

const benchChildName = "__bench-child"

var cmdBenchChild = &command{
	name:   benchChildName,
	hidden: true,
	help:   "The child side of shm bench; not for use by hand. Not supported on this OS.",
	run: func(_ context.Context, c *command, e *env, args []string) error {
		if _, err := c.parse(e, c.flags(), args, false); err != nil {
			return err // -h and --help print the usage
		}
		return fmt.Errorf("%s: %s: %w", benchChildName, runtime.GOOS, errors.ErrUnsupported)
	},
}

func (b *bencher) pingPong() ([]benchRow, error) {
	why := "processes sharing memory are not supported on " + runtime.GOOS
	return []benchRow{unmeasured("semaphore-pingpong", "", why),
		unmeasured("semaphore-pingpong-paused-p50", "", why), unmeasured("semaphore-pingpong-paused-p99", "", why)}, nil
}

func (b *bencher) idle() ([]benchRow, error) {
	why := "processes sharing memory are not supported on " + runtime.GOOS
	return []benchRow{unmeasured("semaphore-idle-waiter", "", why), unmeasured("mutex-idle-waiter", "", why)}, nil
}

// unmeasured is a row whose figure could not be measured, saying why.
func unmeasured(name, peer, why string) benchRow {
	return benchRow{Name: name, Peer: peer, Note: why}
}

func (b *bencher) ringRows() ([]benchRow, error) {
	why := "processes sharing memory are not supported on " + runtime.GOOS
	var rows []benchRow
	for _, n := range ringRowNames {
		rows = append(rows, unmeasured(n, "", why))
	}
	return rows, nil
}

// ringRowNames are the ring rows shm bench prints where it can measure
// them.
var ringRowNames = []string{"cacheline-roundtrip", "memcpy-1MiB", "ring-64B", "ring-64B-4senders", "ring-1KiB",
	"ring-64KiB", "ring-64KiB-peek", "ring-1MiB", "ring-roundtrip-64B-p50", "ring-roundtrip-64B-asleep-p50", "ring-roundtrip-64B-paused-p50",
	"ring-roundtrip-64B-p99", "ring-roundtrip-64B-asleep-p99", "ring-roundtrip-64B-paused-p99", "ring-idle-receiver"}

func (b *bencher) connRows() ([]benchRow, error) {
	why := "shm.Conn is not supported on " + runtime.GOOS
	var rows []benchRow
	for _, n := range []string{"conn-roundtrip-64B-p50", "conn-roundtrip-64B-p99", "conn-stream-1MiB"} {
		rows = append(rows, unmeasured(n, "", why))
	}
	return rows, nil
}
