// Package region keeps mapped memory valid for as long as operations use
// it, so that no handle on words in a mapping can touch the memory after
// the mapping is unmapped.
//
// # The hold
//
// A [Region] stands for a range of memory that its owner (package shm's
// Mapping) will unmap one day. Every operation that reads or writes the
// memory through a handle brackets its accesses with [Region.Acquire] and
// [Region.Release], the scheme of internal/poll's fdMutex reduced to a
// count: Acquire adds one to the number of operations inside, unless the
// region is closing, and then returns the memory's base address; Release
// takes one away. [Region.Close] marks the region closing (every later
// Acquire fails with [io/fs.ErrClosed]), wakes the operations that sleep
// on a word of it (below), waits until no operation is inside, and
// forgets the base address. Only then does the owner unmap the memory.
//
// The rules for a handle type (a mutex, a semaphore, a ring buffer):
//
//   - Keep the [Region] and offsets, never a pointer into the memory: an
//     operation gets the base from Acquire and computes its words from it,
//     and the pointers die with the operation. (A pointer kept past the
//     unmap could also confuse the garbage collector should the address
//     range become Go heap.)
//   - Acquire before the first access, Release after the last one, on
//     every path; return Acquire's error (it satisfies
//     errors.Is(err, fs.ErrClosed)) as the operation's result.
//   - An operation inside the region must end in bounded time once Close
//     has begun, because Close waits for it. An operation that sleeps on a
//     word of the region (a futex wait) registers the word with
//     [Region.WakeOnClose] for the length of the sleep and checks
//     [Region.Err] after every wake-up: Close wakes every sleeper on that
//     word (in other processes too, which see a spurious wake-up: waiters
//     must tolerate those anyway). Close wakes them again at growing
//     intervals (50 µs to 10 ms) until every operation has left, so a
//     sleeper that entered the kernel just after a wake-up is not missed.
//     Where waits poll (futex.Kind() == "poll"), a wake-up does nothing:
//     the sleeper sees Err at the end of its sleep slice, so slices there
//     must be short (the locks use 5 ms). An operation that parks in Go (a channel) selects on [Region.Done]
//     as well.
//   - Nothing that an operation starts may touch the memory after it
//     releases: a wake-up run on another goroutine (context.AfterFunc)
//     must be finished or cancelled first, which futex.WakeOnDone
//     guarantees for a context's cancellation.
//
// A handle that holds a lock in the memory between operations (a locked
// mutex) is not inside the region: Close does not wait for the lock to be
// released, only for the calls in flight.
//
// # Fast calls
//
// The hold costs two atomic read-modify-writes per call, as much again as
// an uncontended lock call itself. Where the memory can be retired rather
// than unmapped (Linux: [FastCalls]), a call that touches one pinned word
// with single atomic instructions and no system call (an uncontended Lock,
// Unlock, Post or Wait) may skip the hold:
//
//	base := r.Fast()               // nil: Close has begun, or no fast calls here
//	if base != nil {
//		word := (*uint32)(unsafe.Add(base, off)) // off was pinned with Pin
//		if atomic.CompareAndSwapUint32(word, 0, tok) { runtime.KeepAlive(r); return nil }
//	}
//	// otherwise the held path above, which reports fs.ErrClosed
//
// The owner then ends the memory with [Region.Unmap] after Close: it
// replaces the whole range, in one step, by a private anonymous mapping
// in which every pinned word is poison (all bits set), and unmaps that
// placeholder only when the garbage collector has found the region
// unreachable, that is when no handle and so no call can use the address
// any more. The ordering argument is in Unmap. The handle rules change
// thus for fast calls:
//
//   - Pin every word a fast call may touch, when the handle is made.
//   - Succeed on the fast path only on a value that poison cannot have,
//     and fall back to the held path on anything else: every fast call
//     that lands on the placeholder then fails over to the held path,
//     which returns fs.ErrClosed.
//   - Keep the region reachable until the last access
//     ([runtime.KeepAlive]).
package region

import (
	"fmt"
	"io/fs"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
)

// closing is the state bit Close sets; operations inside are counted in
// units of opUnit above it.
const (
	closing = 1
	opUnit  = 2
)

// Close wakes the registered sleepers again while it waits for the
// operations to leave, in case a sleeper was about to sleep when the first
// wake-up came (a futex wake-up that precedes the wait is lost): first
// after firstRewake, then at doubling intervals up to maxRewake.
const (
	firstRewake = 50 * time.Microsecond
	maxRewake   = 10 * time.Millisecond
)

// A Region is memory that stays valid while operations hold it. Make it
// with [New]; the zero value is not usable. It is safe for concurrent use.
type Region struct {
	state atomic.Int64 // closing | opUnit × operations inside
	base  unsafe.Pointer
	size  int

	done    chan struct{} // closed when Close begins
	drained chan struct{} // the operation that leaves last after closing sends here

	mu       sync.Mutex      // guards sleepers and pins; held by Close while it wakes them
	sleepers map[*uint32]int // words that operations inside sleep on, counted
	pins     map[int]int     // offset -> length of the words fast calls touch

	closeMu sync.Mutex // serialises Close; later calls wait for the first
	closed  bool
}

// New returns a region for the size bytes at base. The caller keeps the
// memory valid until [Region.Close] has returned.
func New(base unsafe.Pointer, size int) *Region {
	return &Region{base: base, size: size, done: make(chan struct{}), drained: make(chan struct{}, 1)}
}

// Size returns the region's length in bytes.
func (r *Region) Size() int { return r.size }

// Acquire enters the region and returns its base address, valid until the
// matching [Region.Release]. Once Close has begun it returns
// [io/fs.ErrClosed] and the caller must not call Release.
func (r *Region) Acquire() (unsafe.Pointer, error) {
	if r.state.Add(opUnit)&closing != 0 {
		r.Release()
		return nil, fs.ErrClosed
	}
	return r.base, nil
}

// Release leaves the region; the base address Acquire returned must not
// be used after it.
func (r *Region) Release() {
	if r.state.Add(-opUnit) == closing {
		// The last operation left a closing region: let Close go on. A
		// failed Acquire can pass through here too, later; the buffered
		// channel absorbs the extra signal.
		select {
		case r.drained <- struct{}{}:
		default:
		}
	}
}

// Base returns the region's base address without entering it, for an
// operation whose handle its owner drains before Close: the owner closes
// the handle first, the handle's Close waits for the operations it
// admitted (package shm's Ring, whose per-handle gates admit one sending
// and one receiving operation at a time), and only then does the owner
// close the region. Such an operation costs no atomic operation on the
// region; the handle must make every operation after its own Close fail
// without calling Base.
func (r *Region) Base() unsafe.Pointer { return r.base }

// Fast returns the region's base address for a fast call (see the package
// documentation), or nil when the call must take the held path: Close has
// begun, or this system has no fast calls. It is one atomic load.
//
// The load of the closing bit is not what makes a racing fast call safe
// (a call may pass it just before Close sets the bit and then be
// preempted for as long as the scheduler likes); Unmap's placeholder is.
// The bit makes every call that begins after Close has returned (ordered
// after it by the caller's own synchronisation) take the held path and
// return fs.ErrClosed even where Unmap had to keep the real memory.
func (r *Region) Fast() unsafe.Pointer {
	if !FastCalls || r.state.Load()&closing != 0 {
		return nil
	}
	return r.base
}

// Pin records that fast calls touch the n bytes at off, so that Unmap
// poisons them. It fails with [io/fs.ErrClosed] once Close has begun.
// Pinning the same words again costs nothing.
func (r *Region) Pin(off, n int) error {
	if off < 0 || n <= 0 || off > r.size-n {
		return fmt.Errorf("region: %d bytes at offset %d do not fit the %d-byte region", n, off, r.size)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Under mu, which Unmap takes to read the pins: either this Pin sees
	// the closing bit and fails, or Unmap (which runs after Close set the
	// bit) sees the pin.
	if r.state.Load()&closing != 0 {
		return fs.ErrClosed
	}
	if r.pins == nil {
		r.pins = map[int]int{}
	}
	r.pins[off] = max(r.pins[off], n)
	return nil
}

// Done returns a channel that is closed when Close begins. Operations that
// park in Go select on it.
func (r *Region) Done() <-chan struct{} { return r.done }

// Err returns [io/fs.ErrClosed] once Close has begun, nil before.
func (r *Region) Err() error {
	if r.state.Load()&closing != 0 {
		return fs.ErrClosed
	}
	return nil
}

// WakeOnClose registers addr, a word of the region, as one that the
// calling operation is about to sleep on, so that Close wakes every
// sleeper on it. The operation calls the returned stop before it releases
// the region; after stop returns, Close no longer touches addr for it.
func (r *Region) WakeOnClose(addr *uint32) (stop func()) {
	r.mu.Lock()
	if r.sleepers == nil {
		r.sleepers = map[*uint32]int{}
	}
	r.sleepers[addr]++
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.sleepers[addr]--; r.sleepers[addr] <= 0 {
			delete(r.sleepers, addr)
		}
		r.mu.Unlock()
	}
}

// Sleepers returns how many operations have registered a word with
// WakeOnClose and not yet stopped (a snapshot, for tests and
// diagnostics).
func (r *Region) Sleepers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.sleepers {
		n += c
	}
	return n
}

// wakeSleepers wakes every sleeper on the registered words. The words
// belong to operations inside the region, so the memory is valid.
func (r *Region) wakeSleepers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for addr := range r.sleepers {
		_ = futex.Wake(addr, math.MaxInt32)
	}
}

// Close makes every later Acquire fail, wakes the operations that sleep on
// words registered with WakeOnClose (and those parked on Done), and waits
// until every operation has left the region. When it returns, the owner
// ends the memory with [Region.Unmap] (which fast calls may still be on).
// It is idempotent;
// concurrent calls return when the first has finished. It must not be
// called from inside an operation.
func (r *Region) Close() {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	inside := r.state.Add(closing) != closing
	close(r.done)
	if inside {
		// An operation that checked Err just before the closing bit was
		// set may enter the kernel after a wake-up: wake again until all
		// have left.
		wait := firstRewake
		t := time.NewTimer(wait)
		defer t.Stop()
		for drained := false; !drained; {
			r.wakeSleepers()
			select {
			case <-r.drained:
				drained = true
			case <-t.C:
				wait = min(2*wait, maxRewake)
				t.Reset(wait)
			}
		}
	}
	// The base stays: Fast reads it without synchronisation, and Unmap
	// needs it. No held operation uses it any more.
}
