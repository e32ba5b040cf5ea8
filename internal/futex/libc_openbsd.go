package futex

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nativeKind = "futex(libc)"

// OpenBSD futex(2) operations (sys/sys/futex.h): not the Linux numbers.
// FUTEX_PRIVATE_FLAG (128) is never set, so MAP_SHARED words are shared.
const (
	futexWait = 1
	futexWake = 2
)

// OpenBSD 7.5+ refuses system calls that do not come from libc, so futex
// is called through a libc trampoline (libc_openbsd_*.s).

//go:cgo_import_dynamic libc_futex futex "libc.so"
//go:cgo_import_dynamic libc_sched_yield sched_yield "libc.so"

var libc_futex_trampoline_addr uintptr

// syscall_syscall6 is the runtime's libc call, which releases the P while
// the call blocks.
//
//go:linkname syscall_syscall6 syscall.syscall6
func syscall_syscall6(fn, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno)

func nativeProbe() error { return nil }

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	var ts unix.Timespec
	var tsp *unix.Timespec
	if !deadline.IsZero() {
		// Relative timeout only, in ticks; recomputed on every call.
		d, passed := relative(deadline, 24*time.Hour)
		if passed {
			return ErrTimeout
		}
		ts = unix.NsecToTimespec(int64(d))
		tsp = &ts
	}
	_, _, e := syscall_syscall6(libc_futex_trampoline_addr, uintptr(unsafe.Pointer(addr)), futexWait,
		uintptr(val), uintptr(unsafe.Pointer(tsp)), 0, 0)
	switch e {
	case 0, unix.EAGAIN, unix.EINTR, unix.ECANCELED:
		// ECANCELED: a signal with SA_RESTART (all of Go's) interrupted the sleep.
		return nil
	case unix.ETIMEDOUT:
		if _, passed := relative(deadline, 0); passed {
			return ErrTimeout
		}
		return nil
	}
	return os.NewSyscallError("futex", e)
}

func nativeWake(addr *uint32, n int) error {
	if _, _, e := syscall_syscall6(libc_futex_trampoline_addr, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0); e != 0 {
		return os.NewSyscallError("futex", e)
	}
	return nil
}
