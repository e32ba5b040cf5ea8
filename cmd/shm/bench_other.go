//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !darwin && !solaris

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

func kernelRelease() string { return "" }

const benchChildName = "__bench-child"

var cmdBenchChild = &command{
	name:   benchChildName,
	hidden: true,
	help:   "The child side of shm bench; not for use by hand.",
	run: func(context.Context, *command, *env, []string) error {
		return fmt.Errorf("%s: %s: %w", benchChildName, runtime.GOOS, errors.ErrUnsupported)
	},
}

func (b *bencher) pingPong() ([]benchRow, error) {
	return []benchRow{unmeasured("semaphore-pingpong", "", "processes sharing memory are not supported on "+runtime.GOOS)}, nil
}

func (b *bencher) idle() ([]benchRow, error) {
	why := "processes sharing memory are not supported on " + runtime.GOOS
	return []benchRow{unmeasured("semaphore-idle-waiter", "", why), unmeasured("mutex-idle-waiter", "", why)}, nil
}

// unmeasured is a row whose figure could not be measured, saying why.
func unmeasured(name, peer, why string) benchRow {
	return benchRow{Name: name, Peer: peer, Note: why}
}
