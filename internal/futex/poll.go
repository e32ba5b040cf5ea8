package futex

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Polling parameters: re-read the word for up to pollSpinFor (yielding to
// other goroutines now and then), then sleep from pollMinSleep doubling up
// to pollMaxSleep between reads. The spin keeps hand-offs between running
// processes in the microseconds; the cap bounds the latency of a wake-up
// after that to about a millisecond.
const (
	pollSpinFor  = 50 * time.Microsecond
	pollMinSleep = 10 * time.Microsecond
	pollMaxSleep = time.Millisecond
)

// pollWait is Wait without kernel help: it re-reads the word until it
// differs from val or the deadline passes. It cannot lose a wake-up,
// because it never relies on one.
func pollWait(addr *uint32, val uint32, deadline time.Time) error {
	start := time.Now()
	for i := 1; ; i++ {
		if atomic.LoadUint32(addr) != val {
			return nil
		}
		if i%64 == 0 {
			now := time.Now()
			if now.Sub(start) >= pollSpinFor || (!deadline.IsZero() && !now.Before(deadline)) {
				break
			}
			runtime.Gosched()
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
