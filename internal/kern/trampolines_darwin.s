// Trampolines to the libSystem functions imported in shm_darwin.go. Each
// jumps to the dynamically imported symbol; Go code calls it through
// libcCall3 with the address stored in the matching *_trampoline_addr
// variable. JMP and the DATA layout are spelled the same on amd64 and arm64,
// the only darwin architectures.

//go:build darwin && (amd64 || arm64)

#include "textflag.h"

TEXT shm_open_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_shm_open(SB)
GLOBL	·libc_shm_open_trampoline_addr(SB), RODATA, $8
DATA	·libc_shm_open_trampoline_addr(SB)/8, $shm_open_trampoline<>(SB)

TEXT shm_unlink_trampoline<>(SB),NOSPLIT,$0-0
	JMP	libc_shm_unlink(SB)
GLOBL	·libc_shm_unlink_trampoline_addr(SB), RODATA, $8
DATA	·libc_shm_unlink_trampoline_addr(SB)/8, $shm_unlink_trampoline<>(SB)
