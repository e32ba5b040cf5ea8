//go:build !unix

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
)

func errNoUnix(what string) error {
	return fmt.Errorf("%s is not supported on %s/%s: %w", what, runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

func socketPair() (*net.UnixConn, *os.File, error) { return nil, nil, errNoUnix("socketpair") }

func unixConn(*os.File) (*net.UnixConn, error) { return nil, errNoUnix("Unix sockets") }

// forwardSignals are the signals shm exec passes on to its command: none
// here.
var forwardSignals []os.Signal
