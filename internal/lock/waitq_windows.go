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

	"golang.org/x/sys/windows"

	"github.com/shmkit/shm/internal/futex"
	"github.com/shmkit/shm/internal/region"
)

// The Windows wait queue. WaitOnAddress wakes only threads of the same
// process, so the waiters of a lock word sleep on a named kernel
// semaphore, Local\shm-wait-<hash of the word's key>, where the key names
// the word the same way in every process (package shm: the section's
// kernel name and the word's offset in it). A semaphore counts its
// wake-ups, so one released between a waiter's look at the word and its
// sleep is not lost: the sleep returns at once. A wake-up that finds
// nobody asleep stays counted and makes a later sleep return at once,
// which the callers take as the spurious wake-up that futex waits may
// have too. Wakers release it only when the word says someone sleeps, as
// with futexes, so the uncontended calls make no system call.
//
// A sleeping waiter also waits on an event of its own, set when its
// context ends or the region closes, and a mutex waiter on the holder's
// process handle (owner_windows.go), which the kernel signals when the
// holder dies: so no waiter polls.

var (
	procCreateSemaphoreW = modkernel32.NewProc("CreateSemaphoreW")
	procReleaseSemaphore = modkernel32.NewProc("ReleaseSemaphore")
)

// A waitQueue holds a handle of the word's named semaphore, closed when
// the queue becomes garbage (its lock handle with it).
type waitQueue struct {
	sem windows.Handle
}

// newWaitQueue opens (or creates) the semaphore of the word named key.
// Without a key (NewMutex, NewSemaphore: words that are never unmapped)
// the word is named by this process's id and its address, so its
// waiters wake only within this process.
func newWaitQueue(key string, word *uint32) (*waitQueue, error) {
	if key == "" {
		key = fmt.Sprintf("process %d word %p", windows.GetCurrentProcessId(), word)
	}
	name, err := windows.UTF16PtrFromString(waitObjectName(key))
	if err != nil {
		return nil, err
	}
	r, _, e := procCreateSemaphoreW.Call(0, 0, math.MaxInt32, uintptr(unsafe.Pointer(name)))
	if r == 0 {
		return nil, fmt.Errorf("shm: wait semaphore: CreateSemaphore: %w", e)
	}
	q := &waitQueue{sem: windows.Handle(r)}
	runtime.AddCleanup(q, func(h windows.Handle) { windows.CloseHandle(h) }, q.sem)
	return q, nil
}

// wake wakes one sleeper on the word, or the next one to sleep. The
// kernel semaphore keeps the wake-ups that nobody consumes (a waiter
// that died registered leaves Posts releasing it for ever), and each
// would cost a later sleep a spurious return; so wake keeps at most
// sleepers of them pending, sleepers being the waiters the word says are
// registered (1 for a mutex: one pending wake-up makes a waiter look at
// the word, and the mutex's protocol wakes the next). ReleaseSemaphore
// reports the count before the release: if it already held as many, the
// release is taken back. Either way every registered waiter has a wake-up
// pending after the word changed, so none is lost.
func (q *waitQueue) wake(_ *uint32, sleepers uint32) error {
	defer runtime.KeepAlive(q)
	var prev int32
	r, _, e := procReleaseSemaphore.Call(uintptr(q.sem), 1, uintptr(unsafe.Pointer(&prev)))
	if r == 0 {
		if errors.Is(e, windows.ERROR_TOO_MANY_POSTS) {
			return nil
		}
		return fmt.Errorf("shm: ReleaseSemaphore: %w", e)
	}
	if prev > 0 && uint32(prev) >= max(sleepers, 1) {
		_, _ = windows.WaitForSingleObject(q.sem, 0)
		return nil
	}
	futex.NoteWake() // a sleeper is runnable: the next spin yields (spin.go)
	return nil
}

// A waitCall is one slow call's stay among a word's sleepers.
type waitCall struct {
	q      *waitQueue
	ctx    context.Context
	mem    *region.Region
	word   *uint32
	owner  Owner          // a mutex waiter's owner; nil for a semaphore
	cancel windows.Handle // manual-reset event: ctx ended or the region closed

	stopCtx   func() bool
	ctxDone   chan struct{}
	unlist    func() // ends the region's count of this sleeper
	stopClose chan struct{}
	closeDone chan struct{}

	holder   uint32         // the token whose process proc is
	proc     windows.Handle // the holder's process, or 0
	closed   windows.Handle // the holder owner's closed event, or 0
	probeNow bool           // the holder was found dead: the next sleep returns at once to probe it
}

// begin makes the call's event and arranges for ctx's end and the
// region's Close to set it, until end.
func (q *waitQueue) begin(ctx context.Context, mem *region.Region, word *uint32, owner Owner) (*waitCall, error) {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("shm: CreateEvent: %w", err)
	}
	c := &waitCall{q: q, ctx: ctx, mem: mem, word: word, owner: owner, cancel: ev,
		stopClose: make(chan struct{}), closeDone: make(chan struct{})}
	if ctx.Done() != nil {
		c.ctxDone = make(chan struct{})
		c.stopCtx = context.AfterFunc(ctx, func() {
			defer close(c.ctxDone)
			windows.SetEvent(ev)
		})
	}
	// Counted among the region's sleepers (Region.Sleepers), as futex
	// waiters are; the futex wake-up Close makes on the word does nothing
	// here, the event does the work.
	c.unlist = mem.WakeOnClose(word)
	go func() {
		defer close(c.closeDone)
		select {
		case <-mem.Done():
			windows.SetEvent(ev)
		case <-c.stopClose:
		}
	}()
	return c, nil
}

// end undoes begin and closes the call's handles.
func (c *waitCall) end() {
	if c.stopCtx != nil && !c.stopCtx() {
		<-c.ctxDone
	}
	close(c.stopClose)
	<-c.closeDone
	c.unlist()
	windows.CloseHandle(c.cancel)
	c.dropHolder()
}

// watchHolder opens the process of the holder of token t, unless it has
// it already, and reports whether the next sleep will end when that
// process does. It is false for a dead or foreign holder (the waiter
// then probes it when its slice runs out) and for a semaphore.
func (c *waitCall) watchHolder(t uint32) bool {
	if c.owner == nil || t == 0 || t == c.owner.Token() {
		return false
	}
	if t == c.holder {
		return c.proc != 0
	}
	c.dropHolder()
	c.holder = t
	// The closed event before the liveness check: an owner that closes
	// after the check sets an event this call holds open already.
	c.closed = holderClosed(t)
	var err error
	c.proc, err = holderProcess(t)
	c.probeNow = c.proc == 0 && err == nil
	if c.proc == 0 {
		c.dropHolder()
	}
	return c.proc != 0
}

// dropHolder closes the handles on the holder.
func (c *waitCall) dropHolder() {
	if c.proc != 0 {
		windows.CloseHandle(c.proc)
		c.proc = 0
	}
	if c.closed != 0 {
		windows.CloseHandle(c.closed)
		c.closed = 0
	}
}

// sleep sleeps while the word holds v, for one slice or until ctx's
// deadline, on the word's semaphore, the call's event and the holder's
// process; it returns as the futex version does (waitq_futex.go), with
// timedOut also when the holder's process ended.
func (c *waitCall) sleep(v uint32, slice time.Duration) (timedOut bool, err error) {
	deadline, ctxDeadline, hasDeadline := sliceDeadline(c.ctx, slice)
	if c.probeNow {
		// Once per holder: the probe takes the mutex over, or finds
		// that it changed hands.
		c.probeNow = false
		timedOut = true
	} else if atomic.LoadUint32(c.word) == v {
		hs := []windows.Handle{c.q.sem, c.cancel}
		if c.proc != 0 {
			hs = append(hs, c.proc)
			if c.closed != 0 {
				hs = append(hs, c.closed)
			}
		}
		ev, werr := windows.WaitForMultipleObjects(hs, false, millis(time.Until(deadline)))
		switch {
		case werr != nil:
			return false, fmt.Errorf("shm: WaitForMultipleObjects: %w", werr)
		case ev == uint32(windows.WAIT_TIMEOUT):
			timedOut = true
		case ev == windows.WAIT_OBJECT_0:
			futex.NoteWoken() // the next spin yields (spin.go)
		case ev >= windows.WAIT_OBJECT_0+2 && ev < windows.WAIT_OBJECT_0+uint32(len(hs)):
			// The holder's process ended, or its owner closed: probe it
			// now. Both stay signalled, so they leave the wait set
			// (if the probe finds the holder alive, the waiter goes on
			// with its slices).
			c.dropHolder()
			timedOut = true
		}
	}
	if err := afterSleep(c.ctx, c.mem, ctxDeadline, hasDeadline); err != nil {
		return false, err
	}
	return timedOut, nil
}

// millis rounds d up to whole milliseconds for a Windows wait (0 for a
// passed deadline; never INFINITE).
func millis(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min((d+time.Millisecond-1)/time.Millisecond, windows.INFINITE-1))
}

// slice returns the sleep slice: Windows waits sleep in the kernel.
func slice(native time.Duration) time.Duration { return native }
