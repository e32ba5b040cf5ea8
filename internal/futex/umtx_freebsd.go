package futex

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nativeKind = "umtx"

// _umtx_op operations (sys/umtx.h). The _PRIVATE variants (15, 16) would
// pick a process-private sleep queue; these pick the shared one for
// MAP_SHARED mappings.
const (
	umtxOpWake     = 3
	umtxOpWaitUint = 11
	umtxAbsTime    = 1
)

// umtxTime is struct _umtx_time.
type umtxTime struct {
	timeout unix.Timespec
	flags   uint32
	clockid uint32
}

func nativeProbe() error { return nil }

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	tsp, err := absTimeout(deadline)
	if err != nil {
		return err
	}
	var ut umtxTime
	var size uintptr
	var utp *umtxTime
	if tsp != nil {
		ut = umtxTime{timeout: *tsp, flags: umtxAbsTime, clockid: unix.CLOCK_MONOTONIC}
		size, utp = unsafe.Sizeof(ut), &ut
	}
	_, _, e := unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), umtxOpWaitUint,
		uintptr(val), size, uintptr(unsafe.Pointer(utp)), 0)
	switch e {
	case 0, unix.EINTR, unix.EAGAIN:
		return nil
	case unix.ETIMEDOUT:
		return timedOut(deadline) // the kernel's deadline was capped
	}
	return os.NewSyscallError("_umtx_op", e)
}

func nativeWake(addr *uint32, n int) error {
	if _, _, e := unix.RawSyscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), umtxOpWake, uintptr(n), 0, 0, 0); e != 0 {
		return os.NewSyscallError("_umtx_op", e)
	}
	return nil
}

const monoClock = unix.CLOCK_MONOTONIC
