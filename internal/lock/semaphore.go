package lock

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/region"
)

// ErrOverflow is returned by [Semaphore.Post] when the value is already
// [SemValueMax].
var ErrOverflow = errors.New("shm: semaphore value would exceed its maximum")

// Sleep slices: a sleeping waiter wakes at least this often to look at its
// context and the word again. With the OS primitive a cancelled context
// wakes it at once and a deadline is the kernel's timeout, so the
// semaphore's slice only repairs a wake-up lost to a poster killed between
// raising the value and waking a sleeper; each slice end costs an idle
// waiter about 150 µs of CPU (BENCHMARKS.md), hence a long one. With
// polling the slice bounds the delay.
const (
	semSlice  = time.Second
	pollSlice = 5 * time.Millisecond
)

// The slices in use: variables so that tests can lengthen them, which
// turns a lost wake-up into a visible stall.
var (
	semSleep   = semSlice
	mutexSleep = ProbeInterval
)

// A Semaphore is a handle on a counting semaphore in a 64-bit word of
// shared memory (zero: value 0, no waiters). Handles are safe for
// concurrent use; any number of handles in any number of processes may
// refer to the same word.
//
// As with [Mutex], the handle keeps its word as an offset in a
// [region.Region]: the uncontended Post and Wait are fast calls (see
// package region), every other path holds the region, and returns an
// error satisfying errors.Is(err, fs.ErrClosed) once it is closed; a
// Close wakes the operations asleep in Wait.
type Semaphore struct {
	mem  *region.Region
	off  int // offset of the word from the region's base
	gate chan struct{}
	spin spinner
	q    *waitQueue // how waiters sleep on the value (waitq_*.go)
}

// semOp is one operation's view of a Semaphore: the handle and, while the
// operation holds the region, its word.
type semOp struct {
	*Semaphore
	word  *uint64
	value *uint32 // the value half of word, where waiters sleep
}

// enter holds the region and returns the operation's view; the caller
// must call s.mem.Release when the operation ends.
func (s *Semaphore) enter() (semOp, error) {
	base, err := s.mem.Acquire()
	if err != nil {
		return semOp{}, err
	}
	w := (*uint64)(unsafe.Add(base, s.off))
	return semOp{s, w, semValueHalf(w)}, nil
}

// NewSemaphore returns a handle on the semaphore at word, which must be
// 8-byte aligned and stay valid for as long as the handle is used (use
// [NewSemaphoreIn] for memory that goes away). On Windows its waiters are
// woken only by handles of this process (the word has no key).
func NewSemaphore(word *uint64) (*Semaphore, error) {
	if word == nil {
		return nil, errors.New("shm: semaphore word is nil")
	}
	return newSemaphore(region.New(unsafe.Pointer(word), 0), 0, "")
}

// NewSemaphoreIn returns a handle on the semaphore whose word is at offset
// off of r. The handle's operations hold r (see package region). key
// names the word for every process that maps it, as for [NewMutexIn].
func NewSemaphoreIn(r *region.Region, off int, key string) (*Semaphore, error) {
	if r == nil || off < 0 || off > r.Size()-8 {
		return nil, fmt.Errorf("shm: semaphore at offset %d does not fit the region", off)
	}
	// Fast calls touch the word.
	if err := r.Pin(off, 8); err != nil {
		return nil, err
	}
	return newSemaphore(r, off, key)
}

func newSemaphore(r *region.Region, off int, key string) (*Semaphore, error) {
	s := &Semaphore{mem: r, off: off, gate: make(chan struct{}, 1)}
	op, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if uintptr(unsafe.Pointer(op.word))%8 != 0 {
		return nil, fmt.Errorf("shm: semaphore word %p is not 8-byte aligned", op.word)
	}
	if s.q, err = newWaitQueue(key, op.value); err != nil {
		return nil, err
	}
	return s, nil
}

// Value returns the current value (a snapshot).
func (s *Semaphore) Value() (int, error) {
	op, err := s.enter()
	if err != nil {
		return 0, err
	}
	defer s.mem.Release()
	return int(semValue(atomic.LoadUint64(op.word))), nil
}

// Waiters returns how many waiters are registered as sleeping (a
// snapshot, which can include waiters of processes that died; for
// diagnostics). It returns 0 once the region is closed.
func (s *Semaphore) Waiters() int {
	op, err := s.enter()
	if err != nil {
		return 0
	}
	defer s.mem.Release()
	return int(semWaiters(atomic.LoadUint64(op.word)))
}

// Post adds one to the value and wakes a sleeping waiter if there is one.
// It returns [ErrOverflow] if the value is [SemValueMax].
func (s *Semaphore) Post() error {
	r := s.mem
	if base := r.Fast(); base != nil {
		// The fast call: no sleeper to wake. Poison (all ones) counts
		// waiters, so a call on a retired region's placeholder ends up
		// held.
		w := (*uint64)(unsafe.Add(base, s.off))
		if d := atomic.LoadUint64(w); semWaiters(d) == 0 && semValue(d) < SemValueMax &&
			atomic.CompareAndSwapUint64(w, d, d+1) {
			runtime.KeepAlive(r)
			return nil
		}
	}
	op, err := s.enter()
	if err != nil {
		return err
	}
	// The common case without a deferred call: no sleeper to wake.
	// Nothing in it can panic.
	if d := atomic.LoadUint64(op.word); semWaiters(d) == 0 && semValue(d) < SemValueMax &&
		atomic.CompareAndSwapUint64(op.word, d, d+1) {
		r.Release()
		return nil
	}
	defer r.Release()
	return op.post()
}

func (s semOp) post() error {
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) >= SemValueMax {
			return ErrOverflow
		}
		// One atomic step makes the token available and tells whether
		// anyone sleeps: after it, Post must not rely on the waiters.
		if atomic.CompareAndSwapUint64(s.word, d, d+1) {
			if semWaiters(d) > 0 {
				return s.q.wake(s.value, semWaiters(d))
			}
			return nil
		}
	}
}

// TryWait takes one from the value if it is positive and reports whether
// it did. It never blocks.
func (s *Semaphore) TryWait() (bool, error) {
	op, err := s.enter()
	if err != nil {
		return false, err
	}
	defer s.mem.Release()
	return op.tryWait(), nil
}

func (s semOp) tryWait() bool {
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.word, d, d-1) {
			return true
		}
	}
}

// Wait takes one from the value, sleeping while it is zero, until ctx is
// done. It returns ctx.Err() (context.DeadlineExceeded once ctx's deadline
// has passed) without taking anything if ctx ends first.
func (s *Semaphore) Wait(ctx context.Context) error {
	r := s.mem
	if base := r.Fast(); base != nil {
		// The fast call: a token there. Poison's value (2^32-1) is above
		// SemValueMax, so a call on a retired region's placeholder ends
		// up held; so does one on a corrupt word, whose value the held
		// path treats as it always did.
		w := (*uint64)(unsafe.Add(base, s.off))
		if d := atomic.LoadUint64(w); semValue(d)-1 < SemValueMax && atomic.CompareAndSwapUint64(w, d, d-1) {
			runtime.KeepAlive(r)
			return nil
		}
	}
	op, err := s.enter()
	if err != nil {
		return err
	}
	// A token there, without a deferred call. Nothing in it can panic.
	if op.tryWait() {
		r.Release()
		return nil
	}
	defer r.Release()
	return op.wait(ctx)
}

func (s semOp) wait(ctx context.Context) error {
	if s.tryWait() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.spin.spin(s.tryWait) {
		return nil
	}
	if err := enterGate(ctx, s.mem, s.gate); err != nil {
		return err
	}
	defer func() { <-s.gate }()
	return s.waitSlow(ctx)
}

func (s semOp) waitSlow(ctx context.Context) error {
	// Cancellation and the region's Close wake this sleeper (see
	// waitQueue.begin); both wake-ups are over when waitSlow returns.
	c, err := s.q.begin(ctx, s.mem, s.value, nil)
	if err != nil {
		return err
	}
	defer c.end()
	s.register()
	for {
		d := atomic.LoadUint64(s.word)
		if semValue(d) > 0 {
			if atomic.CompareAndSwapUint64(s.word, d, d-1-leaving(d)) {
				return nil
			}
			continue
		}
		// A Post after the load raises the value first, so the sleep on
		// value 0 returns at once (futex compares before it sleeps).
		if _, err := c.sleep(0, slice(semSleep)); err != nil {
			s.abandon()
			return err
		}
	}
}

// register counts the caller among the waiters. The count is a peer's to
// write too: at its maximum it stays there (adding would wrap it to zero,
// and a Post that sees no waiters wakes nobody, leaving this one asleep
// for its slice); Posts then keep waking, which costs a system call each
// and nothing else.
func (s semOp) register() {
	for {
		d := atomic.LoadUint64(s.word)
		if semWaiters(d) == math.MaxUint32 || atomic.CompareAndSwapUint64(s.word, d, d+semOneWaiter) {
			return
		}
	}
}

// leaving is what a waiter that leaves subtracts from word d: one waiter,
// unless a peer (or a waiter that died) left the count at zero, which
// stays zero rather than wrapping to its maximum.
func leaving(d uint64) uint64 {
	if semWaiters(d) == 0 {
		return 0
	}
	return semOneWaiter
}

// abandon deregisters a waiter that gives up. It may have consumed the
// wake-up meant for a token still there: pass it on. Only the high half
// changes; the value half is never touched.
func (s semOp) abandon() {
	for {
		d := atomic.LoadUint64(s.word)
		n := d - leaving(d)
		if !atomic.CompareAndSwapUint64(s.word, d, n) {
			continue
		}
		if semValue(n) > 0 && semWaiters(n) > 0 {
			_ = s.q.wake(s.value, semWaiters(n))
		}
		return
	}
}
