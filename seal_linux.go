package shm

import "golang.org/x/sys/unix"

// Linux's seal commands and bits.
const (
	fAddSeals = unix.F_ADD_SEALS
	fGetSeals = unix.F_GET_SEALS
)

var sealBits = []struct {
	seal Seal
	bit  int
}{
	{SealSeal, unix.F_SEAL_SEAL},
	{SealShrink, unix.F_SEAL_SHRINK},
	{SealGrow, unix.F_SEAL_GROW},
	{SealWrite, unix.F_SEAL_WRITE},
	{SealFutureWrite, unix.F_SEAL_FUTURE_WRITE},
}
