package futex

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/osrev"
	"golang.org/x/sys/unix"
)

const nativeKind = "futex"

// NetBSD's native futex (sys/kern/sys_futex.c, NetBSD 10+), with Linux
// operation codes. Not in x/sys.
const (
	sysFutex          = 166
	futexWake         = 1
	futexWaitBitset   = 9
	futexBitsetAnyBit = 0xffffffff
	monoClock         = 3 // CLOCK_MONOTONIC
)

// nativeProbe decides from kern.osrevision whether the kernel has
// __futex, before any call: NetBSD 9 has no system call 166 (UNIMPL in
// syscalls.master), and its sys_nosys answers with SIGSYS, which kills a
// Go program. On NetBSD 10 and later a FUTEX_WAKE of nobody confirms it.
func nativeProbe() error {
	rev, err := osrev.NetBSDHost()
	if err != nil {
		return fmt.Errorf("futex: cannot tell whether this NetBSD has __futex: %w", err)
	}
	if !osrev.NetBSD(rev).Futex {
		return fmt.Errorf("futex: NetBSD %s has no __futex (NetBSD 10 and later): %w", osrev.NetBSDVersion(rev), errors.ErrUnsupported)
	}
	var w uint32
	if _, _, e := unix.Syscall9(sysFutex, uintptr(unsafe.Pointer(&w)), futexWake, 1, 0, 0, 0, 0, 0, 0); e != 0 {
		return os.NewSyscallError("__futex", e)
	}
	return nil
}

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	tsp, err := absTimeout(deadline)
	if err != nil {
		return err
	}
	// __futex(uaddr, op, val, timeout, uaddr2, val2, val3): seven arguments.
	_, _, e := unix.Syscall9(sysFutex, uintptr(unsafe.Pointer(addr)), futexWaitBitset, uintptr(val),
		uintptr(unsafe.Pointer(tsp)), 0, 0, futexBitsetAnyBit, 0, 0)
	switch e {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		return timedOut(deadline) // the kernel's deadline was capped
	}
	return os.NewSyscallError("__futex", e)
}

func nativeWake(addr *uint32, n int) error {
	if _, _, e := unix.Syscall9(sysFutex, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0, 0, 0, 0); e != 0 {
		return os.NewSyscallError("__futex", e)
	}
	return nil
}
