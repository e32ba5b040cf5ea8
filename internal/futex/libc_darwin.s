// Trampolines to libSystem functions, for the two darwin architectures,
// amd64 and arm64, which spell JMP and the DATA layout the same.

//go:build darwin && (amd64 || arm64)

#include "textflag.h"

// Trampolines to libSystem __ulock_wait and __ulock_wake, called through
// syscall.syscall6.
TEXT libc___ulock_wait_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc___ulock_wait(SB)
GLOBL	·libc___ulock_wait_trampoline_addr(SB), RODATA, $8
DATA	·libc___ulock_wait_trampoline_addr(SB)/8, $libc___ulock_wait_trampoline<>(SB)

TEXT libc___ulock_wake_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc___ulock_wake(SB)
GLOBL	·libc___ulock_wake_trampoline_addr(SB), RODATA, $8
DATA	·libc___ulock_wake_trampoline_addr(SB)/8, $libc___ulock_wake_trampoline<>(SB)

// Trampoline to libc sched_yield, called through syscall.rawSyscall.
TEXT libc_sched_yield_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sched_yield(SB)
GLOBL	·libc_sched_yield_trampoline_addr(SB), RODATA, $8
DATA	·libc_sched_yield_trampoline_addr(SB)/8, $libc_sched_yield_trampoline<>(SB)
