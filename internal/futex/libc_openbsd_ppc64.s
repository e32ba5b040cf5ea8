#include "textflag.h"

// Trampoline to libc futex(2), called through syscall.syscall6. On ppc64
// the libc function is reached with CALL (as x/sys does), not JMP.
TEXT libc_futex_trampoline<>(SB),NOSPLIT,$0-0
	CALL	libc_futex(SB)
	RET
GLOBL	·libc_futex_trampoline_addr(SB), RODATA, $8
DATA	·libc_futex_trampoline_addr(SB)/8, $libc_futex_trampoline<>(SB)

// Trampoline to libc sched_yield, called through syscall.rawSyscall.
TEXT libc_sched_yield_trampoline<>(SB),NOSPLIT,$0-0
	CALL	libc_sched_yield(SB)
	RET
GLOBL	·libc_sched_yield_trampoline_addr(SB), RODATA, $8
DATA	·libc_sched_yield_trampoline_addr(SB)/8, $libc_sched_yield_trampoline<>(SB)
