package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/shmkit/shm"
)

var cmdExec = &command{
	name:    "exec",
	args:    "[--size SIZE] [--name NAME] -- CMD [ARGS...]",
	summary: "run a command with a fresh anonymous object",
	help: `
Create an anonymous shared-memory object of SIZE bytes (default 1MiB),
zero-filled, and run CMD with it inherited: a Go program finds it with
shm.Inherited(NAME) (NAME defaults to "shm": 1 to 64 of A-Z a-z 0-9 _).

A program in another language reads the environment variable
SHM_FD_<NAME> (SHM_FD_shm by default): its value is the decimal number of
the inherited descriptor (3 for the first), an ordinary shared-memory
descriptor to fstat for the size and to mmap with MAP_SHARED.

stdin, stdout and stderr are CMD's own; shm exec exits with CMD's exit
status (128+N when CMD is killed by signal N; 127 when CMD cannot be
found, 126 when it cannot be run). SIGTERM and SIGHUP sent to shm exec
are passed on to CMD; SIGINT from a terminal reaches CMD directly.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		size := &sizeFlag{n: 1 << 20}
		flags.Var(size, "size", "size of the object: "+sizeHelp)
		name := flags.String("name", "shm", "name the child finds the object under (SHM_FD_<NAME>)")
		pos, err := c.parse(e, flags, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, -1, "CMD"); err != nil {
			return err
		}
		o, err := shm.CreateAnon(size.n)
		if err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		cmd := exec.Command(pos[0], pos[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
		if err := shm.Pass(cmd, *name, o); err != nil {
			o.Close()
			return c.usageErr("%v", err)
		}
		sigs := make(chan os.Signal, 4)
		if len(forwardSignals) > 0 { // Notify with no signals would relay them all
			signal.Notify(sigs, forwardSignals...)
		}
		defer signal.Stop(sigs)
		err = cmd.Start()
		o.Close() // the child holds it now
		if err != nil {
			code := 126
			if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
				code = 127
			}
			return &exitError{code: code, err: fmt.Errorf("exec %s: %w", pos[0], err)}
		}
		done := make(chan struct{})
		go func() {
			for {
				select {
				case s := <-sigs:
					_ = cmd.Process.Signal(s)
				case <-done:
					return
				}
			}
		}()
		err = cmd.Wait()
		close(done)
		if err == nil {
			return nil
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("exec %s: %w", pos[0], err)
		}
		if code := ee.ExitCode(); code >= 0 {
			return &exitError{code: code}
		}
		if ws, ok := ee.Sys().(interface{ Signal() syscall.Signal }); ok {
			return &exitError{code: 128 + int(ws.Signal()), err: fmt.Errorf("exec %s: %v", pos[0], ee)}
		}
		return &exitError{code: 1, err: fmt.Errorf("exec %s: %v", pos[0], ee)}
	},
}
