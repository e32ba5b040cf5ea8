// Package futex waits and wakes across processes on a 32-bit word in
// shared memory.
//
// It is the layer under the shm locks. The contract follows the Go
// runtime's futexsleep/futexwakeup, made cross-process: every OS primitive
// is used in its shared (not process-private) form, so a word in a
// MAP_SHARED mapping can be waited on in one process and woken from
// another.
//
//	Wait(addr, val, deadline)
//		Atomically, if *addr == val, sleep until woken, until deadline
//		passes (zero: no deadline), or spuriously. Returns nil on a wake,
//		a value mismatch or a spurious return, ErrTimeout once the
//		deadline has passed, and an error only for a real failure (bad
//		address, unsupported mapping). Callers re-read the word after
//		every return.
//	Wake(addr, n)
//		Wake up to n waiters on addr (n <= 0, or >= MaxInt32: all).
//		Waking is allowed to wake more than n.
//
// Per OS (see [Kind]):
//
//	linux      futex(2) FUTEX_WAIT_BITSET (absolute CLOCK_MONOTONIC) / FUTEX_WAKE
//	freebsd    _umtx_op UMTX_OP_WAIT_UINT (_umtx_time, absolute CLOCK_MONOTONIC) / UMTX_OP_WAKE
//	openbsd    futex(2) through libc (relative timeout)
//	netbsd     __futex (NetBSD 10+, decided from kern.osrevision; else polling)
//	dragonfly  umtx_sleep / umtx_wakeup (µs timeouts, each sleep capped at 1 s)
//	darwin     __ulock_wait / __ulock_wake with UL_COMPARE_AND_WAIT_SHARED through libSystem
//	others     polling: spin, yield, then sleep with exponential backoff (10 µs to 1 ms)
//
// The polling fallback is always correct because it re-reads the word;
// it costs latency (up to about 1 ms) and a little CPU. It can be forced
// with [ForceFallback] or by SHMDEBUG=futex=poll in the environment
// before the program starts (see internal/shmdebug). Wake always issues the OS wake when the OS
// primitive exists, even when waits are forced to poll, so a polling
// process still wakes sleepers in other processes.
//
// A blocked Wait holds an OS thread (the P is released). Callers should
// let only a few goroutines per process sleep on one word.
//
// The package also says when a spin should give up its CPU (yield.go):
// [Yield] is the system's sched_yield (SwitchToThread on windows), and
// [RecentWakes] tells a spin whether this process woke a sleeper
// ([NoteWake]) or was woken (Wait, [NoteWoken]) moments ago, when the
// other process may be queued on this very CPU.
package futex

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/shmdebug"
)

// ErrTimeout is returned by [Wait] when the deadline has passed. It
// matches [os.ErrDeadlineExceeded] under errors.Is and has a Timeout
// method returning true.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "futex: wait deadline exceeded" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

var (
	// forced starts as SHMDEBUG's futex=poll asks.
	forced = func() (b atomic.Bool) {
		s, _ := shmdebug.Get()
		b.Store(s.Futex == "poll")
		return
	}()
	probeOnce sync.Once
	probeErr  error
)

// native returns nil if the OS primitive is usable in this process.
func native() error {
	probeOnce.Do(func() { probeErr = nativeProbe() })
	return probeErr
}

// Available reports whether the OS wait/wake primitive can be used here:
// nil if so, otherwise an error (wrapping [errors.ErrUnsupported] and
// naming the OS when there is none) explaining why waits poll. It ignores
// [ForceFallback].
func Available() error { return native() }

// Sleeps reports whether Wait sleeps in the kernel now, where a Wake
// makes a sleeper runnable: it does not poll (see Kind).
func Sleeps() bool { return !forced.Load() && native() == nil }

// Kind names the mechanism Wait uses now: "futex", "umtx", "umtx_sleep",
// "ulock", "futex(libc)" or "poll".
func Kind() string {
	if forced.Load() || native() != nil {
		return "poll"
	}
	return nativeKind
}

// ForceFallback makes Wait poll instead of sleeping in the kernel (on) or
// restores the default (off). It is meant for tests; SHMDEBUG=futex=poll
// in the environment sets it at start-up.
func ForceFallback(on bool) { forced.Store(on) }

// Wait sleeps while *addr == val, until woken, until the absolute deadline
// (zero = none) passes, or spuriously. It returns nil on a wake, a
// mismatch or a spurious return, and [ErrTimeout] when the deadline
// passed; EINTR, ECANCELED, EAGAIN and EBUSY are not errors. addr must be
// 4-byte aligned.
func Wait(addr *uint32, val uint32, deadline time.Time) error {
	if err := checkAddr(addr); err != nil {
		return err
	}
	if forced.Load() || native() != nil {
		return pollWait(addr, val, deadline)
	}
	err := nativeWait(addr, val, deadline)
	if err == nil {
		NoteWoken() // woken, or the word moved: the peer is running (yield.go)
	}
	return err
}

// WakeSleepers is Wake for a caller that knows someone sleeps on addr (a
// bit or count in the word said so): where Wait sleeps in the kernel
// (Sleeps), it also notes the wake-up (NoteWake), so that this process's
// next spin yields its CPU to the sleeper it made runnable (yield.go).
func WakeSleepers(addr *uint32, n int) error {
	err := Wake(addr, n)
	if Sleeps() {
		NoteWake()
	}
	return err
}

// Wake wakes up to n waiters sleeping on addr; n <= 0 or n >= MaxInt32
// wakes all. Waking nobody is not an error. Some systems wake more than
// n (DragonFly and darwin wake all when n > 1), which waiters tolerate as
// spurious wake-ups.
func Wake(addr *uint32, n int) error {
	if err := checkAddr(addr); err != nil {
		return err
	}
	if native() != nil {
		return nil // pollers re-read the word; nothing to do
	}
	if n <= 0 || n > math.MaxInt32 {
		n = math.MaxInt32
	}
	return nativeWake(addr, n)
}

func checkAddr(addr *uint32) error {
	if addr == nil {
		return errors.New("futex: nil address")
	}
	if uintptr(unsafe.Pointer(addr))%4 != 0 {
		return fmt.Errorf("futex: address %p is not 4-byte aligned", addr)
	}
	return nil
}

// relative returns the time left until deadline, capped at maxSleep, and
// whether the deadline has passed. A zero deadline gives maxSleep.
func relative(deadline time.Time, maxSleep time.Duration) (time.Duration, bool) {
	if deadline.IsZero() {
		return maxSleep, false
	}
	d := time.Until(deadline)
	if d <= 0 {
		return 0, true
	}
	return min(d, maxSleep), false
}
