//go:build linux || freebsd || netbsd

package futex

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// maxAbsWait bounds how far ahead an absolute deadline is passed to the
// kernel; waits beyond it return early (spuriously) and the caller waits
// again.
// (A variable so that tests can shorten it.)
var maxAbsWait = 24 * time.Hour

// monoBase pairs a time.Time with the CLOCK_MONOTONIC reading at the same
// instant. Go's monotonic clock is CLOCK_MONOTONIC on these systems, so
// later instants convert by adding monotonic differences, without a
// clock_gettime system call per wait.
var monoBase struct {
	once sync.Once
	at   time.Time
	ns   int64
	err  error
}

func initMonoBase() {
	var ts unix.Timespec
	t0 := time.Now()
	err := unix.ClockGettime(monoClock, &ts)
	t1 := time.Now()
	monoBase.at, monoBase.ns = t0.Add(t1.Sub(t0)/2), unix.TimespecToNsec(ts)
	monoBase.err = os.NewSyscallError("clock_gettime", err)
}

// absMonotonic converts deadline to an absolute CLOCK_MONOTONIC time. It
// reports passed when the deadline is already over.
func absMonotonic(deadline time.Time) (ts unix.Timespec, passed bool, err error) {
	monoBase.once.Do(initMonoBase)
	if monoBase.err != nil {
		return ts, false, monoBase.err
	}
	now := time.Now()
	d := deadline.Sub(now)
	if d <= 0 {
		return ts, true, nil
	}
	d = min(d, maxAbsWait)
	return unix.NsecToTimespec(monoBase.ns + int64(now.Sub(monoBase.at)) + int64(d)), false, nil
}

// clock is the clock of the deadline check after a kernel timeout; tests
// replace it.
var clock = time.Now

// timedOut is the result of a wait that the kernel ended with ETIMEDOUT.
// The kernel was given the deadline capped at maxAbsWait from now, so
// ETIMEDOUT means the deadline has passed only when it lay within the
// cap: check it again, and report a spurious return (nil) when it is
// still ahead.
func timedOut(deadline time.Time) error {
	if deadline.IsZero() || clock().Before(deadline) {
		return nil
	}
	return ErrTimeout
}

// absTimeout is the timeout argument for deadline: nil for no deadline, an
// absolute CLOCK_MONOTONIC time otherwise, and ErrTimeout once the
// deadline is over.
func absTimeout(deadline time.Time) (*unix.Timespec, error) {
	if deadline.IsZero() {
		return nil, nil
	}
	ts, passed, err := absMonotonic(deadline)
	if err != nil {
		return nil, err
	}
	if passed {
		return nil, ErrTimeout
	}
	return &ts, nil
}
