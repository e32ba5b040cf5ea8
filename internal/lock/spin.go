package lock

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// Spinning before sleeping: a wait that ends within some microseconds is
// cheaper to spin through than to sleep through. Two processes handing a
// semaphore back and forth keep each other awake this way, and the poster
// then needs no wake-up system call (musl reports 20-150x higher
// post/wait rates from spinning).
//
// The spin is bounded in time and adapts per handle: it tracks how long
// recent successful spins took (a moving average, as glibc's adaptive
// mutex does) and spins up to twice that plus minSpin. A failed spin
// shrinks the estimate, so waits that always sleep stop spinning; one
// wait in exploreEvery spins for maxSpin to find out whether spinning has
// become worth it again. At its checks it lets the process's other
// goroutines run where they have no other P (spinGosched, gosched.go), and,
// within yieldWindow of a wake-up this process made or had, its CPU
// as well (the other process may be queued on it: internal/futex/yield.go).
const (
	minSpin      = time.Microsecond
	exploreEvery = 16
	checksPerNow = 32 // condition checks between clock reads

	// yieldAfter: a spin after a wake-up yields at its time checks once
	// it has run this long. The checks come every few hundred ns here;
	// yielding at each raised the awake semaphore ping-pong's p99 from
	// 0.6-0.9 to 2.6 µs, for a paused round trip of 3.9-5.3 µs. From 2 µs
	// on, the p99 held and the paused round trip took 6.1-7.7 µs, against
	// 12.5-19.7 µs with no yield (BENCHMARKS §7).
	yieldAfter = 2 * time.Microsecond
)

// maxSpin caps a spin's budget; a variable so that a test can lift the cap
// where looks are slow (under an emulator the first 32 took over 41 µs).
var maxSpin = 50 * time.Microsecond

// yieldWindow is how long after a wake-up a spin yields, and yieldCPU
// how; variables so that a test can widen the one and watch the other.
var (
	yieldWindow = 100 * time.Microsecond
	yieldCPU    = futex.Yield
)

// spinning is off on a single CPU, where the awaited process cannot run
// while we spin (and in benchmarks that measure the kernel path).
var spinning = runtime.NumCPU() > 1

// A spinner is shared by the goroutines of one handle. Its updates are a
// load and a store, not a read-modify-write: two spins that end together
// may lose one update, which only skews the estimate a little.
type spinner struct {
	avg   atomic.Int64 // ns a successful spin took, moving average
	waits atomic.Uint32
	clock LookClock // a short spin's time without a clock read
}

// spin calls done until it returns true or the spin budget is spent, and
// reports whether it returned true.
func (s *spinner) spin(done func() bool) bool {
	if !spinning {
		return false
	}
	avg := time.Duration(s.avg.Load())
	budget := min(2*avg+minSpin, maxSpin)
	if s.waits.Add(1)%exploreEvery == 0 {
		budget = maxSpin
	}
	start := time.Now()
	first, yield := futex.RecentWakes(start, yieldWindow)
	procs := 0 // GOMAXPROCS, read at the first check
	if first {
		yieldCPU()
	}
	for i := 1; ; i++ {
		if done() {
			took := s.clock.Took(i, checksPerNow, start)
			s.avg.Store(int64(avg + (took-avg)/8))
			return true
		}
		if i%checksPerNow == 0 {
			spun := time.Since(start)
			s.clock.Looked(i, spun)
			if spun >= budget {
				s.avg.Store(int64(avg - avg/8))
				return false
			}
			if yield && spun >= yieldAfter {
				yieldCPU()
			}
			spinGosched(&procs)
		}
	}
}
