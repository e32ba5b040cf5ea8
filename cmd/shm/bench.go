package main

import (
	"context"
	"fmt"
)

var cmdBench = &command{
	name:    "bench",
	summary: "say how to measure shm's performance",
	help: `
Not implemented yet: shm bench will run the library's benchmarks on this
host. Until then it says how to run them with go test. It prints no
numbers of its own.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		fs := c.flags()
		pos, err := c.parse(e, fs, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		fmt.Fprint(e.stdout, `shm bench is not implemented yet: it prints no numbers.
Performance is measured with Go's benchmarks, in a checkout of github.com/shmkit/shm:

  go test -run '^$' -bench . ./...                 # every benchmark
  go test -run '^$' -bench . -count 10 ./... | tee new.txt
  benchstat old.txt new.txt                         # compare two runs

Benchmarks are functions named Benchmark* in the *_test.go files; list them with
  go test -run '^$' -list 'Benchmark.*' ./...
`)
		return nil
	},
}
