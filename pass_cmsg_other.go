//go:build unix && !linux

package shm

import "golang.org/x/sys/unix"

// closeCarried closes the descriptor that a control message other than
// SCM_RIGHTS carries; no such message exists on this system.
func closeCarried(*unix.SocketControlMessage) {}
