package futex

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nativeKind = "ulock"

// bsd/sys/ulock.h (private API, macOS 10.15+). The _SHARED opcode keys the
// wait on (VM object, offset), so it works across processes. Every waiter
// and waker on a word must use the same opcode (else EDOM).
const (
	ulCompareAndWaitShared = 3
	ulfWakeAll             = 0x100
)

// maxUlockSleep bounds each __ulock_wait: its timeout is a uint32 of µs
// (about 71 minutes), 0 meaning forever.
const maxUlockSleep = time.Hour

// faultRetries bounds the EFAULT retries: __ulock_wait reads the word with
// page faults disabled and fails with EFAULT on a non-resident page.
const faultRetries = 100

//go:cgo_import_dynamic libc___ulock_wait __ulock_wait "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc___ulock_wake __ulock_wake "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_sched_yield sched_yield "/usr/lib/libSystem.B.dylib"

var (
	libc___ulock_wait_trampoline_addr uintptr
	libc___ulock_wake_trampoline_addr uintptr
)

// syscall_syscall6 is the runtime's libSystem call, which releases the P
// while the call blocks. It reports errno only when the result is -1.
//
//go:linkname syscall_syscall6 syscall.syscall6
func syscall_syscall6(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

func nativeProbe() error { return nil }

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	for try := 0; ; try++ {
		var us uintptr // 0: no timeout
		if !deadline.IsZero() {
			d, passed := relative(deadline, maxUlockSleep)
			if passed {
				return ErrTimeout
			}
			us = uintptr(max((d+time.Microsecond-1)/time.Microsecond, 1))
		}
		_, _, e := syscall_syscall6(libc___ulock_wait_trampoline_addr, ulCompareAndWaitShared,
			uintptr(unsafe.Pointer(addr)), uintptr(val), us, 0, 0)
		switch e {
		case 0, unix.EINTR:
			return nil
		case unix.ETIMEDOUT:
			if _, passed := relative(deadline, 0); passed {
				return ErrTimeout
			}
			return nil // a chunk ran out, not the deadline
		case unix.EFAULT:
			// Fault the page in by touching the word, then retry.
			if atomic.LoadUint32(addr) != val {
				return nil
			}
			if try < faultRetries {
				continue
			}
		}
		return os.NewSyscallError("__ulock_wait", e)
	}
}

func nativeWake(addr *uint32, n int) error {
	op := uintptr(ulCompareAndWaitShared)
	if n != 1 {
		op |= ulfWakeAll
	}
	for {
		_, _, e := syscall_syscall6(libc___ulock_wake_trampoline_addr, op, uintptr(unsafe.Pointer(addr)), 0, 0, 0, 0)
		switch e {
		case 0, unix.ENOENT: // ENOENT: nobody was waiting
			return nil
		case unix.EINTR:
			continue
		}
		return os.NewSyscallError("__ulock_wake", e)
	}
}
