package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first SIGINT or SIGTERM ends the context, and the command winds
	// up (a ring's stream closed, a keep-alive's objects released); a
	// second one, should winding up hang, ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// exitStatus reports err on stderr and returns the exit status for it:
// 0 for success and for --help, 2 for a usage error, the code of an
// *exitError, and 1 for any other error.
func exitStatus(err error, stderr io.Writer) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "shm: %s\n", ue.msg)
		if ue.usage != "" {
			fmt.Fprintf(stderr, "usage: %s\nRun 'shm %s --help' for details.\n", ue.usage, ue.cmd)
		}
		return 2
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(stderr, "shm: %s\n", errText(ee.err))
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "shm: %s\n", errText(err))
	return 1
}

// errText is err's text without the "shm: " that the library's own
// errors start with, which the command prints once itself.
func errText(err error) string {
	return strings.TrimPrefix(err.Error(), "shm: ")
}

// An exitError ends the command with a given status, after printing err
// if it is not nil.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// A usageError is a command line that makes no sense: exit status 2.
type usageError struct {
	cmd   string // the subcommand, "" for shm itself
	usage string // its usage line, printed after the message
	msg   string
}

func (e *usageError) Error() string { return e.msg }
