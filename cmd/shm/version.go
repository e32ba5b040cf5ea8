package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

var cmdVersion = &command{
	name:    "version",
	summary: "print the version of shm and of Go",
	help:    "Print the module version of shm (from the build information), the Go version and the GOOS/GOARCH it was built for.",
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		pos, err := c.parse(e, flags, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		version, module := "(unknown)", "github.com/shmkit/shm"
		if bi, ok := debug.ReadBuildInfo(); ok {
			module = bi.Main.Path
			if module == "" { // a test binary: the module is a dependency
				module = "github.com/shmkit/shm"
			}
			version = bi.Main.Version
			for _, d := range bi.Deps {
				if d.Path == module && bi.Main.Path != module {
					version = d.Version
				}
			}
			if version == "" {
				version = "(devel)"
			}
		}
		fmt.Fprintf(e.stdout, "shm %s (%s)\n%s %s/%s\n", version, module, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	},
}
