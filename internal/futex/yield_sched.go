//go:build linux || freebsd || netbsd || dragonfly

package futex

import "golang.org/x/sys/unix"

// CanYield reports whether Yield gives up the CPU on this system. These
// systems take sched_yield(2) as a system call from any program.
const CanYield = true

// Yield gives up the CPU to whatever else the system would run on it
// (sched_yield(2)). Raw: it does not block, and the thread keeps its P,
// as the runtime's own osyield does.
func Yield() { _, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
