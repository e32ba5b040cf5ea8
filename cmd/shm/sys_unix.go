//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a connected Unix stream socket pair:
// one for this process as a *net.UnixConn, one to hand to a child.
func socketPair() (*net.UnixConn, *os.File, error) {
	// Not every system has SOCK_CLOEXEC (darwin): hold ForkLock so that no
	// exec sees the descriptors before they are close-on-exec.
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "socketpair-parent")
	theirs := os.NewFile(uintptr(fds[1]), "socketpair-child")
	c, err := net.FileConn(mine) // duplicates the descriptor
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return c.(*net.UnixConn), theirs, nil
}

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
