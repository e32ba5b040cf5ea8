package lock

import (
	"runtime"
	"sync/atomic"
)

// Spinning before sleeping: a wait that would end within a few
// microseconds is cheaper to spin through than to sleep through (musl
// reports 20-150x higher post/wait rates). The spin length adapts per
// handle: a success moves the estimate towards the rounds it needed (as
// glibc's adaptive mutex does), a failure shrinks it, and the limit is
// twice the estimate plus a small margin.
const (
	maxSpin  = 100 // rounds
	spinWork = 8   // loads per round, a short pause between checks
)

var multiCPU = runtime.NumCPU() > 1

type spinner struct{ avg atomic.Int32 }

// spin calls done up to the adaptive limit and reports whether it
// returned true. word is read between calls as a pause.
func (s *spinner) spin(word *uint32, done func() bool) bool {
	if !multiCPU {
		return false
	}
	avg := int(s.avg.Load())
	limit := min(2*avg+10, maxSpin)
	for i := range limit {
		if done() {
			s.avg.Store(int32(avg + (i-avg)/8))
			return true
		}
		for range spinWork {
			atomic.LoadUint32(word)
		}
	}
	s.avg.Store(int32(max(avg-avg/4-1, 0)))
	return false
}
