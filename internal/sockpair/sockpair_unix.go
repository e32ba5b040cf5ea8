//go:build unix

package sockpair

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Raw returns a connected Unix stream socket pair in blocking mode, both
// ends close-on-exec.
func Raw() ([2]int, error) {
	// Not every system has SOCK_CLOEXEC (darwin): ForkLock keeps a
	// concurrent fork+exec from inheriting the descriptors in the instant
	// before they are close-on-exec.
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return fds, os.NewSyscallError("socketpair", err)
	}
	return fds, nil
}

// Pipe returns a pipe in blocking mode, both ends close-on-exec: p[0] is
// the read end.
func Pipe() ([2]int, error) {
	// Not every system has pipe2 (darwin): as in Raw.
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return p, os.NewSyscallError("pipe", err)
	}
	return p, nil
}

// Conn returns a connected pair: this process's end as a *net.UnixConn,
// the other as an *os.File to hand to a child (cmd.ExtraFiles). The
// caller closes both.
func Conn() (*net.UnixConn, *os.File, error) {
	fds, err := Raw()
	if err != nil {
		return nil, nil, err
	}
	mine := os.NewFile(uintptr(fds[0]), "socketpair-parent")
	theirs := os.NewFile(uintptr(fds[1]), "socketpair-child")
	c, err := net.FileConn(mine) // duplicates the descriptor
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		theirs.Close()
		return nil, nil, fmt.Errorf("socketpair: a %T, not a Unix socket", c)
	}
	return uc, theirs, nil
}
