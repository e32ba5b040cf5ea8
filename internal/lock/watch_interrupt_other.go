//go:build !linux

package lock

// Only Linux has lock waits that a watch uses (open-file-description
// locks); elsewhere no watch is started.

func canInterruptWait() bool    { return false }
func interruptWait(fd, tid int) {}
func threadID() int             { return 0 }
func closeWaitFD(fd int)        {}
