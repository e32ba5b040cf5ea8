//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/shmkit/shm/internal/sockpair"
)

// socketPair returns the two ends of a connected Unix stream socket pair:
// one for this process as a *net.UnixConn, one to hand to a child.
func socketPair() (*net.UnixConn, *os.File, error) { return sockpair.Conn() }

// unixConn turns an inherited descriptor into a *net.UnixConn.
func unixConn(f *os.File) (*net.UnixConn, error) {
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("descriptor %d is a %T, not a Unix socket", f.Fd(), c)
	}
	return uc, nil
}

// forwardSignals are the signals shm exec passes on to its command.
var forwardSignals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP}
