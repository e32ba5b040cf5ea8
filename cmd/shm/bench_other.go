//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !darwin && !solaris

package main

import (
	"context"
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
		return fmt.Errorf("%s: not supported on %s", benchChildName, runtime.GOOS)
	},
}

func (b *bencher) pingPong() ([]benchRow, error) {
	return []benchRow{{Name: "semaphore-pingpong", Note: "processes and shared memory are not supported on " + runtime.GOOS}}, nil
}
