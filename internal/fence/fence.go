// Package fence is an asymmetric store-load fence: a cheap side that is a
// plain store, and a heavy side, a system call, that makes every plain
// store the process's other threads made before it visible.
//
// The gates of package shm (one goroutine at a time per ring handle and
// direction of a connection) let go with a store and then load the count
// of waiters; a waiter counts itself and then tries the gate. Each side
// must see the other's store, or the waiter sleeps on a gate that nobody
// wakes. On amd64 Go's atomic store is an XCHG, a full barrier: it waits
// until every earlier store has reached the cache, and on the ring's
// per-message path those are the message's lines, on their way from the
// other process's CPU. Measured, that wait was a tenth of a 64-byte
// message's time (BENCHMARKS.md §7, "Letting a gate go without a
// barrier").
//
// Where the heavy side exists (Linux on amd64, membarrier(2) with
// MEMBARRIER_CMD_PRIVATE_EXPEDITED, registered once), [Plain] reports
// true and a gate lets go with a plain store; a waiter that failed to
// take the gate calls [Heavy] before it sleeps and then tries again.
// Either the holder's load of the count came after the waiter counted
// itself (and it wakes the waiter), or its store of the gate came before
// the heavy fence and the waiter's second try sees it.
//
// Elsewhere, in race-detector builds (a plain store to a word that others
// access atomically is a data race to the detector), before the
// registration has ended, when the kernel refuses it, or with
// SHMDEBUG=fence=locked, Plain reports false and a gate lets go with an
// atomic store, as before.
package fence

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/shmkit/shm/internal/shmdebug"
)

var (
	plain  atomic.Bool
	once   sync.Once
	ended  = make(chan struct{})
	regErr error // why the registration failed; set before ended closes
)

// Plain reports whether a store that a waiter must see may be a plain
// store: the registration has succeeded, and a waiter that may have
// missed such a store calls Heavy. Once true it stays true.
//
// Plain's result is stored with a sequentially consistent store, and a
// waiter loads it after its own locked instruction (counting itself): a
// holder that loaded true and then found no waiter counted did both
// before the waiter counted itself, so the waiter loads true as well.
func Plain() bool { return plain.Load() }

// Heavy makes every store that another thread of this process made before
// the call visible to this thread, and reports whether it did anything:
// false when Plain is false, and stores are atomic.
func Heavy() bool {
	if !plain.Load() {
		return false
	}
	heavy()
	return true
}

// Start registers the process for the heavy fence, once, on a goroutine
// of its own (the kernel takes milliseconds to register a process with
// several threads); until that ends Plain is false. The channel is closed
// when the registration has ended, whatever its result.
func Start() <-chan struct{} {
	once.Do(func() {
		go func() {
			defer close(ended)
			if s, _ := shmdebug.Get(); s.Fence == "locked" {
				regErr = ErrLocked
				return
			}
			if regErr = register(); regErr == nil {
				plain.Store(true)
			}
		}()
	})
	return ended
}

// Err starts the registration if Start has not, waits for it to end and
// returns why it failed: an error wrapping errors.ErrUnsupported that
// names the OS or the build where there is no heavy fence, the kernel's
// refusal, or SHMDEBUG=fence=locked. It is nil once Plain reports true.
func Err() error {
	<-Start()
	return regErr
}

// ErrLocked is Err's error when SHMDEBUG=fence=locked keeps the gates on
// the atomic store.
var ErrLocked = errors.New("SHMDEBUG=fence=locked")
