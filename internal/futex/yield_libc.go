//go:build darwin || openbsd

package futex

import (
	"syscall"
	_ "unsafe" // for go:linkname
)

// CanYield reports whether Yield gives up the CPU on this system. darwin
// and OpenBSD 7.5+ take system calls only from their libc, so Yield calls
// libc's sched_yield through a trampoline (libc_darwin.s,
// libc_openbsd_*.s; the dynamic import is beside the other libc calls, in
// ulock_darwin.go and libc_openbsd.go).
const CanYield = true

var libc_sched_yield_trampoline_addr uintptr

// syscall_rawSyscall is the runtime's libc call that keeps the P, for a
// call that does not block.
//
//go:linkname syscall_rawSyscall syscall.rawSyscall
func syscall_rawSyscall(fn, a1, a2, a3 uintptr) (r1, r2 uintptr, err syscall.Errno)

// Yield gives up the CPU to whatever else the system would run on it
// (libc's sched_yield).
func Yield() { _, _, _ = syscall_rawSyscall(libc_sched_yield_trampoline_addr, 0, 0, 0) }
