//go:build linux || freebsd || netbsd || dragonfly

package shm

import "golang.org/x/sys/unix"

// canYield: these systems take sched_yield(2) as a system call from any
// program (see ring_yield.go).
const canYield = true

// osYield calls sched_yield(2). Raw: it does not block, and the thread
// keeps its P, as the runtime's own osyield does.
func osYield() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
