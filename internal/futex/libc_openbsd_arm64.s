#include "textflag.h"

// Trampoline to libc futex(2), called through syscall.syscall6.
TEXT libc_futex_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_futex(SB)
GLOBL	·libc_futex_trampoline_addr(SB), RODATA, $8
DATA	·libc_futex_trampoline_addr(SB)/8, $libc_futex_trampoline<>(SB)

// Trampoline to libc sched_yield, called through syscall.rawSyscall.
TEXT libc_sched_yield_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_sched_yield(SB)
GLOBL	·libc_sched_yield_trampoline_addr(SB), RODATA, $8
DATA	·libc_sched_yield_trampoline_addr(SB)/8, $libc_sched_yield_trampoline<>(SB)
