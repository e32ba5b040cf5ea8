//go:build linux || freebsd || netbsd

package futex

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// maxAbsWait bounds how far ahead an absolute deadline is passed to the
// kernel, so CLOCK_MONOTONIC plus it cannot overflow; waits beyond it
// return early (spuriously) and the caller waits again.
const maxAbsWait = 24 * time.Hour

// absMonotonic converts deadline to an absolute CLOCK_MONOTONIC time. It
// reports passed when the deadline is already over.
func absMonotonic(clock int32, deadline time.Time) (ts unix.Timespec, passed bool, err error) {
	d, passed := relative(deadline, maxAbsWait)
	if passed {
		return ts, true, nil
	}
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return ts, false, os.NewSyscallError("clock_gettime", err)
	}
	return unix.NsecToTimespec(unix.TimespecToNsec(ts) + int64(d)), false, nil
}
