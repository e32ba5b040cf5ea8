package futex

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Polling parameters: spin this many reads, then yield this many times,
// then sleep from pollMinSleep doubling up to pollMaxSleep.
const (
	pollSpins    = 64
	pollYields   = 4
	pollMinSleep = 10 * time.Microsecond
	pollMaxSleep = time.Millisecond
)

// pollWait is Wait without kernel help: it re-reads the word until it
// differs from val or the deadline passes. It cannot lose a wake-up,
// because it never relies on one.
func pollWait(addr *uint32, val uint32, deadline time.Time) error {
	for range pollSpins {
		if atomic.LoadUint32(addr) != val {
			return nil
		}
	}
	for range pollYields {
		runtime.Gosched()
		if atomic.LoadUint32(addr) != val {
			return nil
		}
	}
	sleep := pollMinSleep
	for {
		if atomic.LoadUint32(addr) != val {
			return nil
		}
		d, passed := relative(deadline, sleep)
		if passed {
			return ErrTimeout
		}
		time.Sleep(d)
		sleep = min(2*sleep, pollMaxSleep)
	}
}
