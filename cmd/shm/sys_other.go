//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

func errNoUnix(what string) error {
	return fmt.Errorf("%s is not supported on %s/%s: %w", what, runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

// forwardSignals are the signals shm exec passes on to its command: none
// here.
var forwardSignals []os.Signal
