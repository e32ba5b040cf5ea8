package lock

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/region"
)

var (
	// ErrOwnerDead is returned by Lock and TryLock when the caller got the
	// mutex but a previous holder died holding it: the protected data may
	// be inconsistent. The caller holds the mutex; it should repair the
	// data and call MarkConsistent before Unlock.
	ErrOwnerDead = errors.New("shm: previous mutex owner died; state may be inconsistent")

	// ErrNotRecoverable is returned by Lock and TryLock (without the
	// mutex) once a holder that got ErrOwnerDead unlocked it without
	// MarkConsistent. The mutex stays unusable until its memory is zeroed
	// while no process uses it.
	ErrNotRecoverable = errors.New("shm: mutex is not recoverable")

	// ErrNotHeld is returned by Unlock and MarkConsistent when this
	// handle's owner does not hold the mutex.
	ErrNotHeld = errors.New("shm: mutex is not held by this owner")
)

// ProbeInterval is how long a waiter sleeps before it checks whether the
// holder is still alive (shorter when waits poll), unless it watches the
// holder (Linux; see watch.go). A holder's death is noticed within about
// this time plus scheduling latency.
const ProbeInterval = 50 * time.Millisecond

// An Owner names a holder and tells whether the holder of a token is
// still alive. Liveness must rest on something the kernel releases when a
// process dies (see [NewFileOwner]).
type Owner interface {
	// Token returns this holder's token, in [1, MaxToken].
	Token() uint32
	// Alive reports whether the holder of token is alive. It must
	// report true for the caller's own token.
	Alive(token uint32) (bool, error)
}

// A Mutex is a handle on a robust mutex in two 32-bit words of shared
// memory (word and state; all zero: unlocked and consistent). The mutex
// is held by an owner (a process's token for the shared object), not by a
// goroutine: any goroutine using a handle with that owner may unlock it.
// Handles are safe for concurrent use.
//
// The handle keeps its words as offsets in a [region.Region], never as
// pointers. The uncontended Lock and Unlock are fast calls (see package
// region): they touch the pinned words without holding the region and
// succeed only on values that a retired region's poison cannot have.
// Every other path holds the region for its duration, and returns an
// error satisfying errors.Is(err, fs.ErrClosed) once the region is
// closed. A Close of the region wakes the operations asleep in Lock,
// which then return that error.
type Mutex struct {
	mem      *region.Region
	wordOff  int // offset of the lock word from the region's base
	stateOff int // offset of the state word
	owner    Owner
	token    uint32
	gate     chan struct{}
	spin     spinner
	q        *waitQueue // how waiters sleep on the lock word (waitq_*.go)
}

// mutexOp is one operation's view of a Mutex: the handle and, for the
// length of the operation (while it holds the region), its words.
type mutexOp struct {
	*Mutex
	word  *uint32
	state *uint32
}

// enter holds the region and returns the operation's view; the caller
// must call m.mem.Release when the operation ends.
func (m *Mutex) enter() (mutexOp, error) {
	base, err := m.mem.Acquire()
	if err != nil {
		return mutexOp{}, err
	}
	return mutexOp{m, (*uint32)(unsafe.Add(base, m.wordOff)), (*uint32)(unsafe.Add(base, m.stateOff))}, nil
}

// NewMutex returns a handle on the mutex whose lock word is word and whose
// state word is state, both 4-byte aligned, held on behalf of owner. The
// words must stay valid for as long as the handle is used: it has no
// region to close (use [NewMutexIn] for memory that goes away). On
// Windows its waiters are woken only by handles of this process (the
// words have no key: see [NewMutexIn]).
func NewMutex(word, state *uint32, owner Owner) (*Mutex, error) {
	if word == nil || state == nil {
		return nil, errors.New("shm: mutex word is nil")
	}
	stateOff := int(uintptr(unsafe.Pointer(state)) - uintptr(unsafe.Pointer(word)))
	return newMutex(region.New(unsafe.Pointer(word), 0), 0, stateOff, owner, "")
}

// NewMutexIn returns a handle on the mutex whose lock word is at offset
// off of r and whose state word follows it, held on behalf of owner. The
// handle's operations hold r (see package region). key names the lock
// word for every process that maps it, where the kernel cannot key a
// cross-process wait by address (Windows: see waitq_windows.go); it is
// ignored elsewhere.
func NewMutexIn(r *region.Region, off int, owner Owner, key string) (*Mutex, error) {
	if r == nil || off < 0 || off > r.Size()-8 {
		return nil, fmt.Errorf("shm: mutex at offset %d does not fit the region", off)
	}
	// Fast calls touch both words.
	if err := r.Pin(off, 8); err != nil {
		return nil, err
	}
	return newMutex(r, off, off+4, owner, key)
}

func newMutex(r *region.Region, wordOff, stateOff int, owner Owner, key string) (*Mutex, error) {
	if owner == nil {
		return nil, errors.New("shm: mutex owner is nil")
	}
	tok := owner.Token()
	if tok == 0 || tok > MaxToken {
		return nil, fmt.Errorf("shm: owner token %#x is outside [1, %#x]", tok, MaxToken)
	}
	m := &Mutex{mem: r, wordOff: wordOff, stateOff: stateOff, owner: owner, token: tok, gate: make(chan struct{}, 1)}
	op, err := m.enter()
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if uintptr(unsafe.Pointer(op.word))%4 != 0 || uintptr(unsafe.Pointer(op.state))%4 != 0 {
		return nil, fmt.Errorf("shm: mutex words %p, %p are not 4-byte aligned", op.word, op.state)
	}
	if m.q, err = newWaitQueue(key, op.word); err != nil {
		return nil, err
	}
	return m, nil
}

// Lock acquires the mutex, sleeping while another owner holds it, until
// ctx is done (then it returns ctx.Err(), or context.DeadlineExceeded once
// ctx's deadline has passed, without the mutex). If the holder died, Lock
// takes the mutex over and returns [ErrOwnerDead]: the caller holds it.
// It returns [ErrNotRecoverable], without the mutex, for a mutex made
// unusable. Lock by an owner that already holds the mutex waits (it is
// not recursive) until ctx is done.
func (m *Mutex) Lock(ctx context.Context) error {
	r := m.mem
	if base := r.Fast(); base != nil {
		// The fast call (package region): one compare-and-swap and a
		// load, without the hold. Poison (all ones) in a retired region
		// fails the compare-and-swap, and as a state it is not
		// consistent, so a call on the placeholder ends up held.
		if atomic.CompareAndSwapUint32((*uint32)(unsafe.Add(base, m.wordOff)), 0, m.token) {
			consistent := atomic.LoadUint32((*uint32)(unsafe.Add(base, m.stateOff))) == stateConsistent
			runtime.KeepAlive(r)
			if consistent {
				return nil
			}
			// We hold the word. If the region closed meanwhile, the held
			// path returns fs.ErrClosed and leaves it taken: a mutex
			// held through a closed mapping counts as held by a dead
			// process, as if this Lock had returned before the Close.
			op, err := m.enter()
			if err != nil {
				return err
			}
			defer r.Release()
			return op.acquired()
		}
	}
	op, err := m.enter()
	if err != nil {
		return err
	}
	// The uncontended path without a deferred call: nothing in it can
	// panic.
	took := atomic.CompareAndSwapUint32(op.word, 0, m.token)
	if took && atomic.LoadUint32(op.state) == stateConsistent {
		r.Release()
		return nil
	}
	defer r.Release()
	if took {
		return op.acquired() // not consistent: report it
	}
	return op.lock(ctx)
}

// lock goes on from a failed first compare-and-swap.
func (m mutexOp) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.spin.spin(m.tryFast) {
		return m.acquired()
	}
	if err := enterGate(ctx, m.mem, m.gate); err != nil {
		return err
	}
	defer func() { <-m.gate }()
	return m.lockSlow(ctx)
}

func (m mutexOp) tryFast() bool {
	return atomic.LoadUint32(m.word) == 0 && atomic.CompareAndSwapUint32(m.word, 0, m.token)
}

// acquired finishes an acquisition: it reports the robustness state, and
// releases the mutex again if it is not recoverable. The state word is
// shared with every peer and may hold anything: a value other than the
// three states counts as not recoverable, so corrupt bytes never pass for
// a consistent mutex.
func (m mutexOp) acquired() error {
	switch atomic.LoadUint32(m.state) {
	case stateConsistent:
		return nil
	case stateInconsistent:
		return ErrOwnerDead
	}
	m.release()
	return ErrNotRecoverable
}

// A holderWatcher is an [Owner] that can learn without polling when the
// holder of a token dies ([FileOwner] with Linux OFD locks; see
// watch.go). watch registers word's waiter with the watch of token and
// returns it, or nil when the holder cannot be watched: the waiter then
// probes it every slice.
type holderWatcher interface {
	watch(token uint32, word *uint32) *tokenWatch
}

func (m mutexOp) lockSlow(ctx context.Context) error {
	// Cancellation and the region's Close wake this sleeper (see
	// waitQueue.begin); both wake-ups are over when lockSlow returns.
	c, err := m.q.begin(ctx, m.mem, m.word, m.owner)
	if err != nil {
		return err
	}
	defer c.end()
	hw, _ := m.owner.(holderWatcher)
	// The watch on the current holder, when the owner can keep one: it
	// wakes this waiter when the holder dies, so that the sleep need not
	// end every ProbeInterval to probe it.
	var w *tokenWatch
	defer func() {
		if w != nil {
			w.leave(m.word)
		}
	}()
	for {
		v := atomic.LoadUint32(m.word)
		if v&tokenMask == 0 {
			// Free. Having slept, take it with WAITERS set so that the
			// other sleepers are not forgotten (Drepper's mutex3).
			if atomic.CompareAndSwapUint32(m.word, v, m.token|waitersBit) {
				return m.acquired()
			}
			continue
		}
		if v&waitersBit == 0 {
			if !atomic.CompareAndSwapUint32(m.word, v, v|waitersBit) {
				continue
			}
			v |= waitersBit
		}
		if holder := v & tokenMask; hw != nil && (w == nil || w.token != holder || w.isReleased()) {
			if w != nil {
				w.leave(m.word)
			}
			// Registered before the sleep on v: a watch that fires from
			// now on changes the word or keeps waking it until this
			// waiter leaves (see tokenWatch.run), so the sleep below
			// cannot miss it.
			w = hw.watch(holder, m.word)
		}
		sleep := mutexSleep
		if (w != nil && w.state.Load() == watching) || c.watchHolder(v&tokenMask) {
			sleep = watchedSleep
		}
		timedOut, err := c.sleep(v, slice(sleep))
		if err != nil {
			m.abandon()
			return err
		}
		// Probe the holder when the slice ran out with the mutex still
		// held, or when the watch saw the holder let go of its token.
		if timedOut || (w != nil && w.isReleased()) {
			took, err := m.takeOverIfDead(atomic.LoadUint32(m.word))
			if took {
				return err
			}
			if err != nil {
				m.abandon()
				return err
			}
		}
	}
}

// takeOverIfDead probes the holder of v; if it is dead, it takes the
// mutex over (reporting took) and returns ErrOwnerDead or
// ErrNotRecoverable.
func (m mutexOp) takeOverIfDead(v uint32) (took bool, err error) {
	holder := v & tokenMask
	if holder == 0 || holder == m.token {
		return false, nil
	}
	alive, err := m.owner.Alive(holder)
	if err != nil || alive {
		return false, err
	}
	// Keep WAITERS: others may sleep. The compare-and-swap against the
	// whole of v (token and flags) makes the take-over fail if the
	// mutex changed hands since the probe; it drops goneBit, which
	// belonged to the dead holder. The data is marked suspect in the
	// state word only after the mutex is ours: no one but the holder acts
	// on the state, and if this process dies between the two steps the
	// next taker finds the state consistent and marks it itself.
	if !atomic.CompareAndSwapUint32(m.word, v, m.token|v&waitersBit) {
		return false, nil // it changed hands meanwhile
	}
	atomic.CompareAndSwapUint32(m.state, stateConsistent, stateInconsistent)
	return true, m.acquired()
}

// abandon is called by a waiter that gives up. It may have consumed the
// wake-up of an Unlock: pass it on to another sleeper if the mutex is
// free, or make sure the new holder's Unlock wakes one.
func (m mutexOp) abandon() {
	for {
		v := atomic.LoadUint32(m.word)
		if v&tokenMask == 0 {
			_ = m.q.wake(m.word, 1)
			return
		}
		if v&waitersBit != 0 || atomic.CompareAndSwapUint32(m.word, v, v|waitersBit) {
			return
		}
	}
}

// TryLock acquires the mutex if it is free or its holder is dead, without
// sleeping, and reports whether it did. As with Lock, a true result may
// come with [ErrOwnerDead]; [ErrNotRecoverable] comes with false. A busy
// mutex costs a liveness probe (a system call).
func (m *Mutex) TryLock() (bool, error) {
	op, err := m.enter()
	if err != nil {
		return false, err
	}
	defer m.mem.Release()
	return op.tryLock()
}

func (m mutexOp) tryLock() (bool, error) {
	for {
		v := atomic.LoadUint32(m.word)
		if v&tokenMask == 0 {
			if !atomic.CompareAndSwapUint32(m.word, v, m.token|v&waitersBit) {
				continue
			}
			err := m.acquired()
			return !errors.Is(err, ErrNotRecoverable), err
		}
		took, err := m.takeOverIfDead(v)
		if took {
			return !errors.Is(err, ErrNotRecoverable), err
		}
		if err != nil {
			return false, err
		}
		if atomic.LoadUint32(m.word) == v {
			return false, nil
		}
	}
}

// Unlock releases the mutex. Unlocking after [ErrOwnerDead] without
// MarkConsistent makes the mutex not recoverable. It returns [ErrNotHeld]
// if this handle's owner does not hold the mutex.
func (m *Mutex) Unlock() error {
	r := m.mem
	if base := r.Fast(); base != nil {
		// The fast call: held by us, consistent, nobody waiting. Poison
		// is neither a consistent state nor a token.
		if atomic.LoadUint32((*uint32)(unsafe.Add(base, m.stateOff))) == stateConsistent &&
			atomic.CompareAndSwapUint32((*uint32)(unsafe.Add(base, m.wordOff)), m.token, 0) {
			runtime.KeepAlive(r)
			return nil
		}
	}
	op, err := m.enter()
	if err != nil {
		return err
	}
	// The common case without a deferred call: held by us, consistent,
	// nobody waiting. Nothing in it can panic.
	if atomic.LoadUint32(op.state) == stateConsistent && atomic.CompareAndSwapUint32(op.word, m.token, 0) {
		r.Release()
		return nil
	}
	defer r.Release()
	return op.unlock()
}

func (m mutexOp) unlock() error {
	if atomic.LoadUint32(m.word)&tokenMask != m.token {
		return ErrNotHeld
	}
	if atomic.LoadUint32(m.state) == stateInconsistent {
		atomic.StoreUint32(m.state, stateNotRecoverable)
	}
	return m.release()
}

// release clears the word and wakes a sleeper if WAITERS was set: the word
// changes before the wake-up (Drepper's invariant).
func (m mutexOp) release() error {
	if atomic.CompareAndSwapUint32(m.word, m.token, 0) {
		return nil
	}
	if atomic.SwapUint32(m.word, 0)&waitersBit != 0 {
		return m.q.wake(m.word, 1)
	}
	return nil
}

// MarkConsistent declares the protected data repaired after Lock or
// TryLock returned [ErrOwnerDead]; the mutex then works normally. The
// caller must hold the mutex ([ErrNotHeld] otherwise). It returns
// [ErrNotRecoverable] if it is too late, and nil for a consistent mutex.
func (m *Mutex) MarkConsistent() error {
	op, err := m.enter()
	if err != nil {
		return err
	}
	defer m.mem.Release()
	return op.markConsistent()
}

func (m mutexOp) markConsistent() error {
	if atomic.LoadUint32(m.word)&tokenMask != m.token {
		return ErrNotHeld
	}
	if !atomic.CompareAndSwapUint32(m.state, stateInconsistent, stateConsistent) &&
		atomic.LoadUint32(m.state) != stateConsistent {
		return ErrNotRecoverable
	}
	return nil
}

// Consistent reports whether the mutex is in the consistent state (a
// snapshot; for diagnostics). It reports false once the region is closed.
func (m *Mutex) Consistent() bool {
	op, err := m.enter()
	if err != nil {
		return false
	}
	defer m.mem.Release()
	return atomic.LoadUint32(op.state) == stateConsistent
}
