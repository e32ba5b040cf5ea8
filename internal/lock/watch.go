package lock

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// watchedSleep is the sleep slice of a mutex waiter whose holder is
// watched (see tokenWatch): the watch wakes it when the holder dies, so
// the slice is only a safety net. A variable so that tests can change it.
var watchedSleep = time.Second

// maxWatches bounds the tokens one owner watches at once: each watch is a
// thread blocked in the kernel until that holder lets go of its token.
const maxWatches = 64

// A waitLocker is a locker that can wait in the kernel for another
// holder's token lock to be released (Linux open-file-description locks).
type waitLocker interface {
	locker
	// waitFD returns a descriptor for one waitFree call; the caller hands
	// it to waitFree, which closes it. It is taken while the owner is
	// open, so waitFree never meets a descriptor closed under it.
	waitFD() (int, error)
	// waitFree blocks until no holder other than this locker has token's
	// lock, then leaves the lock free, and closes fd.
	waitFree(fd int, token uint32) error
}

// Watch states.
const (
	watching = iota
	released // the holder let go of its token: it died or closed its owner
	failed   // the kernel wait failed: waiters fall back to probing
)

// A tokenWatch learns without polling when the holder of a token lets go
// of its token lock, which the kernel does when the holder dies. One
// goroutine per watched token waits for that lock in the kernel. When it
// is released, the watch marks the mutex words whose waiters registered
// (diedBit, so that a waiter about to sleep on the old value does not
// miss the wake-up) and wakes their sleepers, which then probe the holder
// and take the mutex over.
type tokenWatch struct {
	token uint32
	state atomic.Int32

	mu    sync.Mutex
	words map[*uint32]int // registered waiters' mutex words, counted
}

// released reports whether the holder let go of the token.
func (w *tokenWatch) isReleased() bool { return w.state.Load() == released }

// watch registers word's waiter with the watch of token t, starting one if
// needed. It returns nil when the owner cannot watch (no kernel wait for
// its lock kind, too many watches, or an earlier watch of t failed): the
// waiter then probes the holder every [ProbeInterval].
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
	if w == nil {
		if len(o.watches) >= maxWatches {
			return nil
		}
		fd, err := wl.waitFD()
		if err != nil {
			return nil
		}
		w = &tokenWatch{token: t, words: map[*uint32]int{}}
		if o.watches == nil {
			o.watches = map[uint32]*tokenWatch{}
		}
		o.watches[t] = w
		go o.runWatch(wl, w, fd)
	}
	if w.state.Load() == failed {
		return nil
	}
	w.mu.Lock()
	w.words[word]++
	w.mu.Unlock()
	return w
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

// runWatch waits for the token's lock to be released, then wakes the
// registered waiters. A failed wait is remembered, so that waiters on t
// do not start a new one each time.
func (o *FileOwner) runWatch(wl waitLocker, w *tokenWatch, fd int) {
	if err := wl.waitFree(fd, w.token); err != nil {
		w.state.Store(failed)
	} else {
		w.state.Store(released)
		o.mu.Lock()
		if o.watches[w.token] == w {
			delete(o.watches, w.token) // a new holder of t gets a new watch
		}
		o.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for word := range w.words {
		if w.state.Load() == released {
			markHolderGone(word, w.token)
		}
		_ = futex.Wake(word, math.MaxInt32)
	}
}

// markHolderGone sets diedBit on word if token t still holds it without
// it: the value changes, so a waiter that read the old value and is about
// to sleep on it returns at once instead of missing the wake-up. Waiters
// then probe t and take the mutex over.
func markHolderGone(word *uint32, t uint32) {
	for {
		v := atomic.LoadUint32(word)
		if v&tokenMask != t || v&diedBit != 0 {
			return
		}
		if atomic.CompareAndSwapUint32(word, v, v|diedBit) {
			return
		}
	}
}
