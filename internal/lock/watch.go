package lock

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// watchedSleep is the sleep slice of a mutex waiter whose holder is
// watched (see tokenWatch): the watch wakes it when the holder dies, so
// the slice is only a safety net. A variable so that tests can change it.
var watchedSleep = time.Second

// maxWatches bounds the watches of the whole process: each one is a
// thread blocked in the kernel and a descriptor of the object. Beyond it,
// waiters probe their holders every [ProbeInterval]. A variable so that
// tests can change it.
var maxWatches = 64

// A waitLocker is a locker that can wait in the kernel for another
// holder's token lock to be released (Linux open-file-description locks).
type waitLocker interface {
	locker
	// file identifies the locked file, for the process-wide registry.
	file() fileKey
	// waitFD returns a new descriptor of the file, with an open file
	// description of its own that holds no lock, for one watch. The
	// watch closes it.
	waitFD() (int, error)
	// waitFree blocks until no holder other than fd's open file
	// description has token's lock, then leaves the lock free. It does
	// not close fd. If fd is replaced under it (see interruptWait), it
	// returns an error.
	waitFree(fd int, token uint32) error
}

// Watch states.
const (
	watching = iota
	released // the holder let go of its token: it died or closed its owner
	failed   // the kernel wait failed: waiters fall back to probing
	stopped  // the last owner that used the watch closed: waiters probe
)

// A watchKey names a watch: one per token per file in the process.
type watchKey struct {
	file  fileKey
	token uint32
}

// watches is the process-wide registry of watches, so that every owner
// of the process (every Mapping that made a Mutex) that waits for the
// same holder shares one thread and one descriptor. A watch lives while
// an owner holds a reference to it; the last owner's Close stops it,
// interrupting its kernel wait. A watch whose holder let go leaves the
// registry at once (a new holder of the token gets a new watch); one whose
// wait failed stays, so that waiters do not start a new wait each time.
var watches = struct {
	sync.Mutex
	m map[watchKey]*tokenWatch
}{m: map[watchKey]*tokenWatch{}}

// A tokenWatch learns without polling when the holder of a token lets go
// of its token lock, which the kernel does when the holder dies. One
// goroutine per watched token waits for that lock in the kernel, on an
// open file description of its own. When it is released, the watch marks
// the mutex words whose waiters registered (goneBit, so that a waiter
// about to sleep on the old value does not miss the wake-up) and wakes
// their sleepers, which then probe the holder and take the mutex over.
type tokenWatch struct {
	key   watchKey
	token uint32
	state atomic.Int32
	refs  int           // owners holding the watch; guarded by watches
	ended chan struct{} // closed when the watch's goroutine has returned

	mu    sync.Mutex
	words map[*uint32]int // registered waiters' mutex words, counted
	fd    int             // the wait's descriptor, until done
	tid   int             // the thread in the wait, once it is about to start
	halt  bool            // the last owner let go: stop the wait
	done  bool            // the wait returned; fd is being closed
}

// isReleased reports whether the holder let go of the token.
func (w *tokenWatch) isReleased() bool { return w.state.Load() == released }

// watch registers word's waiter with the watch of token t, joining the
// process's watch of t or starting one. It returns nil when the owner
// cannot watch (no kernel wait for its lock kind, too many watches in the
// process, no way to stop one, or an earlier watch of t failed): the
// waiter then probes the holder every [ProbeInterval]. A watch it has just
// started is returned even if its wait has already failed.
func (o *FileOwner) watch(t uint32, word *uint32) *tokenWatch {
	wl, ok := o.lk.(waitLocker)
	if !ok || t == 0 || t == o.token {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	w := o.watches[t]
	if w != nil && w.isReleased() {
		delete(o.watches, t)
		releaseWatch(w)
		w = nil
	}
	if w == nil {
		for tok, old := range o.watches {
			if old.isReleased() {
				delete(o.watches, tok)
				releaseWatch(old)
			}
		}
		var fresh bool
		if w, fresh = acquireWatch(wl, t); w == nil {
			return nil
		}
		if o.watches == nil {
			o.watches = map[uint32]*tokenWatch{}
		}
		o.watches[t] = w
		if !fresh && w.state.Load() == failed {
			return nil
		}
	} else if w.state.Load() == failed {
		return nil
	}
	w.mu.Lock()
	w.words[word]++
	w.mu.Unlock()
	return w
}

// acquireWatch returns the process's watch of token t on wl's file with
// one more reference, starting it if there is none (fresh).
func acquireWatch(wl waitLocker, t uint32) (w *tokenWatch, fresh bool) {
	key := watchKey{wl.file(), t}
	watches.Lock()
	defer watches.Unlock()
	w = watches.m[key]
	if w != nil && w.isReleased() {
		delete(watches.m, key) // its goroutine is removing it too
		w = nil
	}
	if w == nil {
		if len(watches.m) >= maxWatches || !canInterruptWait() {
			return nil, false
		}
		fd, err := wl.waitFD()
		if err != nil {
			return nil, false
		}
		w = &tokenWatch{key: key, token: t, words: map[*uint32]int{}, fd: fd, ended: make(chan struct{})}
		watches.m[key] = w
		go w.run(wl)
		fresh = true
	}
	w.refs++
	return w, fresh
}

// releaseWatch drops an owner's reference to w; the last one stops it.
func releaseWatch(w *tokenWatch) {
	watches.Lock()
	w.refs--
	last := w.refs == 0
	if last && watches.m[w.key] == w {
		delete(watches.m, w.key)
	}
	watches.Unlock()
	if !last {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halt = true
	if !w.done && w.tid != 0 {
		// The thread is in the wait or about to enter it; w.fd is still
		// the watch's (it is closed only after done is set).
		interruptWait(w.fd, w.tid)
	}
}

// leave unregisters word's waiter. After it returns the watch no longer
// touches word.
func (w *tokenWatch) leave(word *uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.words[word]--; w.words[word] <= 0 {
		delete(w.words, word)
	}
}

// run waits for the token's lock to be released, then wakes the
// registered waiters. The goroutine keeps its thread for the wait, so that
// releaseWatch can interrupt it there.
func (w *tokenWatch) run(wl waitLocker) {
	defer close(w.ended)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w.mu.Lock()
	halted := w.halt
	if !halted {
		w.tid = threadID()
	}
	w.mu.Unlock()
	var err error
	if !halted {
		err = wl.waitFree(w.fd, w.token)
	}
	w.mu.Lock()
	w.done = true
	halted = w.halt
	w.mu.Unlock()
	closeWaitFD(w.fd)
	switch {
	case halted:
		w.state.Store(stopped)
	case err != nil:
		w.state.Store(failed)
	default:
		w.state.Store(released)
		watches.Lock()
		if watches.m[w.key] == w {
			delete(watches.m, w.key) // a new holder of t gets a new watch
		}
		watches.Unlock()
	}
	w.mu.Lock()
	for word := range w.words {
		if w.state.Load() == released {
			markHolderGone(word, w.token)
		}
		// Otherwise a spurious wake-up: the waiters see that the watch
		// ended and go back to probing.
		_ = futex.Wake(word, math.MaxInt32)
	}
	w.mu.Unlock()
	if w.state.Load() == released {
		w.wakeUntilLeft()
	}
}

// Rewake intervals of a released watch (see wakeUntilLeft).
const (
	firstRewake = 50 * time.Microsecond
	maxRewake   = 10 * time.Millisecond
)

// wakeUntilLeft wakes the registered waiters again, at growing intervals,
// until every one has left the watch (or its last owner stopped it). A
// waiter that read the word before the mark and sleeps on it after the
// first wake-up returns at once only if the mark changed the word; it
// does not when goneBit was already set (an earlier watch of the same
// holder marked it, and no take-over cleared it since). Such a waiter
// would otherwise sleep a whole slice. Each waiter leaves the watch as
// soon as it sees it released (it probes, takes over or watches anew), so
// this ends in a few rounds. The words stay valid while registered: their
// waiters hold their regions until after they leave.
func (w *tokenWatch) wakeUntilLeft() {
	wait := firstRewake
	for {
		time.Sleep(wait)
		wait = min(2*wait, maxRewake)
		w.mu.Lock()
		if len(w.words) == 0 || w.halt {
			w.mu.Unlock()
			return
		}
		for word := range w.words {
			_ = futex.Wake(word, math.MaxInt32)
		}
		w.mu.Unlock()
	}
}

// markHolderGone sets goneBit on word if token t still holds it: the
// value changes, so a waiter that read the old value and is about to
// sleep on it returns at once instead of missing the wake-up. If the bit
// is already set the value cannot change, and wakeUntilLeft covers that
// waiter. Waiters then probe t and take the mutex over. The word is
// hostile shared memory: the compare-and-swap only ever adds the bit to
// the exact value read, so whatever a peer wrote stays as it was.
func markHolderGone(word *uint32, t uint32) {
	for {
		v := atomic.LoadUint32(word)
		if v&tokenMask != t || v&goneBit != 0 {
			return
		}
		if atomic.CompareAndSwapUint32(word, v, v|goneBit) {
			return
		}
	}
}
