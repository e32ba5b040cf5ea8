package shm

import (
	"context"
	"io/fs"

	"github.com/shmkit/shm/internal/lock"
)

// MutexSize is the number of bytes a [Mutex] occupies in a mapping: a
// 32-bit lock word followed by a 32-bit state word. Its offset must be a
// multiple of 8. All zero bytes are an unlocked, consistent mutex, so a
// freshly created object needs no initialisation.
const MutexSize = 8

var (
	// ErrOwnerDead is returned by [Mutex.Lock] and [Mutex.TryLock] when
	// the caller got the mutex but a previous holder died holding it: the
	// data it protects may be half-updated. The caller holds the mutex;
	// it should repair the data and call [Mutex.MarkConsistent] before
	// [Mutex.Unlock]. Unlocking without MarkConsistent makes the mutex
	// not recoverable.
	ErrOwnerDead = lock.ErrOwnerDead

	// ErrNotRecoverable is returned by [Mutex.Lock] and [Mutex.TryLock],
	// without the mutex, once a holder that got [ErrOwnerDead] unlocked
	// it without [Mutex.MarkConsistent]. The mutex stays unusable until
	// its MutexSize bytes are zeroed while no process uses it.
	ErrNotRecoverable = lock.ErrNotRecoverable

	// ErrNotHeld is the cause of the error that [Mutex.Unlock] and
	// [Mutex.MarkConsistent] return when the mutex is not held through
	// the handle's Mapping (it is free, or another Mapping or process
	// holds it). Test for it with errors.Is.
	ErrNotHeld = lock.ErrNotHeld
)

// A Mutex is a mutual-exclusion lock in shared memory, for processes that
// map the same object (and the goroutines within them). Get one with
// [Mapping.Mutex]; every process that calls Mutex at the same offset of
// the same object gets the same lock.
//
// The uncontended Lock and Unlock are a compare-and-swap each, with no
// system call. A contended Lock sleeps in the kernel (futex, _umtx_op,
// __ulock_wait, umtx_sleep; on Windows a named semaphore per lock word
// and the holder's process handle) or, where the system has no
// cross-process wait, polls with a backoff capped at 1 ms; within one handle, one
// goroutine sleeps in the kernel and the others wait without an OS
// thread.
//
// # Ownership
//
// The mutex is held by the Mapping it was obtained from, not by a
// goroutine: any goroutine may unlock it through a handle from the same
// Mapping, and a handle from another Mapping (even of the same object in
// the same process) cannot. It is not recursive: locking it again through
// the same Mapping waits.
//
// # When a holder dies
//
// The mutex is robust: if a process dies holding it (even by SIGKILL),
// the next Lock takes it over and returns [ErrOwnerDead]: on Linux within
// about a millisecond (a waiting process sleeps in the kernel on the
// holder's liveness lock, which the kernel releases at the death),
// elsewhere within about 50 ms (waiters probe the holder that often),
// plus scheduling latency in both cases. Liveness rests on an advisory lock
// the kernel releases when the process dies, taken on the object's file
// through a private re-open (Linux) or on the file itself (other
// systems), or on a lock file per holder in /tmp/.shm-owners where the
// object takes no byte-range locks (macOS). So:
//   - a stopped or hung holder is alive, and waiters wait for it;
//   - outside Linux, the liveness locks are classic fcntl locks, which the
//     kernel drops when the process closes ANY descriptor of the object.
//     The descriptors shm itself closes (Mapping.Close, Object.Close, a
//     Mapping or Object dropped to the garbage collector, Stat, Check)
//     are kept open instead while the process has mutex owners on the
//     object, and closed with the last of them. Descriptors you own are
//     yours to keep: do not close one (from [Object.File], or your own
//     open of the object), or drop it to the garbage collector, while the
//     process holds a mutex in the object, or the process looks dead to
//     the others and they take the mutex over;
//   - closing the Mapping releases its liveness lock: a mutex held
//     through a closed Mapping counts as held by a dead process, and the
//     next Lock elsewhere gets [ErrOwnerDead];
//   - a dead holder's random 30-bit token can be reused before a waiter
//     probes it, with odds of about one in a billion per live process;
//     the waiter then waits for that process to end.
//
// On Windows liveness is the holder's process instead: each Mapping's
// owner publishes its process id and creation time in a named section
// (Local\shm-owner-<token>) while it lives, and a waiter sleeps on the
// holder's process handle, which the kernel signals when the process
// ends, even by TerminateProcess: Lock returns within milliseconds of the
// death; closing the Mapping sets an event of the owner's that wakes
// them the same way. The wait and owner objects
// are in the session's Local\ namespace: the processes that share a
// mutex must be in one session. Tokens are unique among the session's
// live owners, so no token is reused while its holder lives.
type Mutex struct {
	m *lock.Mutex
	// mapping names the mapping in errors and keeps it reachable, with
	// its region, for as long as the handle is (a closed mapping's
	// retired range goes only when both are garbage; see region.Unmap).
	mapping *Mapping
}

// Mutex returns the mutex whose MutexSize bytes start at offset off of
// the mapping, which must be read-write; off must be a multiple of 8.
// The handle works until the mapping is closed; afterwards its methods
// return an error satisfying errors.Is(err, fs.ErrClosed).
func (m *Mapping) Mutex(off int) (*Mutex, error) {
	if _, err := m.pointer(off, MutexSize, 8); err != nil {
		return nil, err
	}
	owner, err := m.lockOwner()
	if err != nil {
		return nil, err
	}
	r, err := m.region()
	if err != nil {
		return nil, err
	}
	key, err := m.waitKey(off)
	if err != nil {
		return nil, err
	}
	lm, err := lock.NewMutexIn(r, off, owner, key)
	if err != nil {
		return nil, lockErr("attach", m, err)
	}
	return &Mutex{m: lm, mapping: m}, nil
}

// Lock locks the mutex, waiting while another holder has it, until ctx
// is done: then it returns ctx.Err() (context.DeadlineExceeded once ctx's
// deadline has passed) without the mutex. It returns [ErrOwnerDead] with
// the mutex held if the previous holder died, and [ErrNotRecoverable]
// without it for a mutex made unusable. Once the Mapping is closed, or if
// it is closed while Lock waits, Lock returns an error satisfying
// errors.Is(err, fs.ErrClosed), without the mutex.
func (mu *Mutex) Lock(ctx context.Context) error { return lockErr("lock", mu.mapping, mu.m.Lock(ctx)) }

// TryLock locks the mutex if it is free, or held by a dead process, and
// reports whether it did, without waiting. A true result may come with
// [ErrOwnerDead]; [ErrNotRecoverable] comes with false, as does an error
// satisfying errors.Is(err, fs.ErrClosed) once the Mapping is closed.
// When the mutex is held, TryLock checks that the holder is alive, which
// costs a system call.
func (mu *Mutex) TryLock() (bool, error) {
	ok, err := mu.m.TryLock()
	return ok, lockErr("trylock", mu.mapping, err)
}

// Unlock unlocks the mutex. It returns an error satisfying
// errors.Is(err, [ErrNotHeld]) if the mutex is not held through this
// handle's Mapping, and one satisfying errors.Is(err, fs.ErrClosed) once
// the Mapping is closed. After [ErrOwnerDead], unlocking without
// MarkConsistent makes the mutex not recoverable for everyone.
func (mu *Mutex) Unlock() error { return lockErr("unlock", mu.mapping, mu.m.Unlock()) }

// MarkConsistent declares the protected data repaired after Lock or
// TryLock returned [ErrOwnerDead], so that the mutex works normally again.
// The caller must hold the mutex: otherwise the error satisfies
// errors.Is(err, [ErrNotHeld]). It returns nil for a consistent mutex,
// [ErrNotRecoverable] when it is too late, and an error satisfying
// errors.Is(err, fs.ErrClosed) once the Mapping is closed.
func (mu *Mutex) MarkConsistent() error {
	return lockErr("markconsistent", mu.mapping, mu.m.MarkConsistent())
}

// lockErr names the operation and the mapping in the errors of a lock
// call that are failures of the call ([ErrNotHeld], [ErrOverflow],
// fs.ErrClosed, system call failures). The outcomes that callers compare
// against, [ErrOwnerDead], [ErrNotRecoverable] and the context's errors,
// are returned as they are.
func lockErr(op string, m *Mapping, err error) error {
	switch {
	case err == nil, err == ErrOwnerDead, err == ErrNotRecoverable,
		err == context.Canceled, err == context.DeadlineExceeded:
		return err
	}
	return &fs.PathError{Op: op, Path: m.name, Err: err}
}

// lockOwner returns the mapping's liveness owner, made on first use. It
// holds a private descriptor of the object (on Linux a re-open, so that
// its OFD lock is not shared with other processes that hold the same
// open file description) and a token lock on it; Mapping.Close releases
// both, so a mapping closed while holding a mutex counts as a dead
// holder.
func (m *Mapping) lockOwner() (*lock.FileOwner, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, m.errClosed("attach")
	}
	if m.lockOwn != nil {
		return m.lockOwn, nil
	}
	if m.owner == nil {
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: errNoDescriptor}
	}
	o, err := lock.NewFileOwner(m.owner)
	if err != nil {
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: err}
	}
	m.lockOwn = o
	return o, nil
}
