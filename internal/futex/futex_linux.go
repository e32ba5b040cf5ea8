package futex

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nativeKind = "futex"

// Linux futex operations (include/uapi/linux/futex.h). FUTEX_PRIVATE_FLAG
// (128) is deliberately never set: the word is shared between processes.
const (
	futexWake         = 1
	futexWaitBitset   = 9
	futexBitsetAnyBit = 0xffffffff
)

func nativeProbe() error {
	var w uint32
	if _, _, e := unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w)), futexWake, 1, 0, 0, 0); e != 0 {
		return os.NewSyscallError("futex", e)
	}
	return nil
}

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	tsp, err := absTimeout(deadline)
	if err != nil {
		return err
	}
	// A blocking call: Syscall6, which releases the P while asleep.
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitBitset,
		uintptr(val), uintptr(unsafe.Pointer(tsp)), 0, futexBitsetAnyBit)
	switch e {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		return timedOut(deadline) // the kernel's deadline was capped
	}
	return os.NewSyscallError("futex", e)
}

func nativeWake(addr *uint32, n int) error {
	// FUTEX_WAKE never blocks: RawSyscall6 saves the scheduler round trip.
	if _, _, e := unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0); e != 0 {
		return os.NewSyscallError("futex", e)
	}
	return nil
}

const monoClock = unix.CLOCK_MONOTONIC
