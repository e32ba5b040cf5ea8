package shm

import "github.com/shmkit/shm/internal/kern"

// FreeBSD's seal commands and bits (sys/fcntl.h); x/sys defines them for
// riscv64 only. fGetSeals is in adopt_freebsd.go. There is no
// F_SEAL_FUTURE_WRITE.
const fAddSeals = kern.FAddSeals

var sealBits = []struct {
	seal Seal
	bit  int
}{
	{SealSeal, kern.SealSeal},
	{SealShrink, kern.SealShrink},
	{SealGrow, kern.SealGrow},
	{SealWrite, kern.SealWrite},
}
