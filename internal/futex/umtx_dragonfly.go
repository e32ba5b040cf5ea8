package futex

import (
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nativeKind = "umtx_sleep"

// maxUmtxSleep caps each umtx_sleep: older kernels cap it at 1 s anyway
// (kern.umtx_timeout_max), and 0 would mean "forever".
const maxUmtxSleep = time.Second

func nativeProbe() error { return nil }

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	for {
		d, passed := relative(deadline, maxUmtxSleep)
		if passed {
			return ErrTimeout
		}
		us := max((d+time.Microsecond-1)/time.Microsecond, 1)
		_, _, e := unix.Syscall(unix.SYS_UMTX_SLEEP, uintptr(unsafe.Pointer(addr)), uintptr(val), uintptr(us))
		switch e {
		case 0, unix.EBUSY, unix.EINTR:
			return nil
		case unix.EWOULDBLOCK, unix.ETIMEDOUT:
			// This slice ran out; the loop decides whether the deadline did.
			if atomic.LoadUint32(addr) != val {
				return nil
			}
			continue
		}
		return os.NewSyscallError("umtx_sleep", e)
	}
}

func nativeWake(addr *uint32, n int) error {
	count := uintptr(0) // all
	if n == 1 {
		count = 1
	}
	if _, _, e := unix.RawSyscall(unix.SYS_UMTX_WAKEUP, uintptr(unsafe.Pointer(addr)), count, 0); e != 0 {
		return os.NewSyscallError("umtx_wakeup", e)
	}
	return nil
}
