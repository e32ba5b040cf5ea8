// Package lock implements a robust mutex and a counting semaphore whose
// whole state lives in words of shared memory, for processes that map the
// same object. It works on words of a [region.Region] (no mapping type):
// package shm places them in a mapping, whose Close closes the region, and
// supplies the liveness [Owner]. Every call but the uncontended fast
// paths holds the region for its duration and fails with fs.ErrClosed
// once it is closing; a Close wakes
// the calls asleep in Mutex.Lock and Semaphore.Wait, which return that
// error after deregistering as waiters (as a cancelled wait does).
// [NewMutex] and [NewSemaphore] take raw words that stay valid, in a
// region that is never closed.
//
// # Semaphore
//
// The semaphore is glibc's "new semaphore" in one 64-bit word: the value
// in the low 32 bits, the number of sleeping waiters in the high 32. Post
// adds a token and wakes one sleeper if the waiter count is non-zero;
// Wait takes a token without a system call when there is one, spins
// briefly, then registers as a waiter and sleeps on the value half of the
// word. A waiter that gives up (context cancelled or deadline passed)
// deregisters and passes on any wake-up it may have consumed.
//
// # Mutex
//
// The mutex is Drepper's three-state mutex ("Futexes Are Tricky",
// mutex3) with the "locked" state replaced by an owner token: the word is
// token | WAITERS | GONE, all zero when unlocked (GONE only ever set by a
// watch, below). A second word holds the robustness state: consistent,
// inconsistent (an owner died; the protected data may be damaged) or not
// recoverable. The uncontended Lock and Unlock are a single
// compare-and-swap each, plus a load of the state word; no system call,
// and on Linux no hold of the region either (fast calls: see package
// region).
//
// # When a holder dies
//
// Liveness rests on something the kernel releases when a process dies, not
// on a process id (pids are reused and differ between pid namespaces).
// Each holder (per process and shared object) has a random 30-bit token
// and holds an advisory lock that names it (see [NewFileOwner]). Waiters
// sleep in bounded slices ([ProbeInterval]) and, when a slice runs out
// while the lock is still held, ask the [Owner] whether the holder's
// token lock is still held; if not, they take the mutex over with a
// compare-and-swap to their own token (keeping WAITERS) and mark the
// state word inconsistent. Lock then returns
// [ErrOwnerDead] with the mutex held: the caller repairs the data and
// calls MarkConsistent, or unlocks without it, which makes the mutex
// [ErrNotRecoverable] for every later Lock.
//
// Where the owner's lock can be waited for in the kernel (Linux OFD
// locks), a waiter also watches the holder's token (see watch.go): a
// goroutine sleeps in F_OFD_SETLKW on it, and when the kernel grants it
// (the holder died) it sets GONE in the mutex word and wakes the waiters at
// once, and again at growing intervals until they have all left the watch
// (a word already marked by an earlier watch cannot change).
// Watched waiters sleep in 1 s slices, only as a safety net. There is one
// watch per (file, token) in the process, shared by every owner whose
// waiters use it and at most 64 in all; the Close of the last owner that
// used it stops it, interrupting the kernel wait (its descriptor number is
// swapped for an O_PATH one with dup3, then the thread gets SIGURG: the
// restarted fcntl fails; see watch_interrupt_linux.go). A process that
// ignores SIGURG gets no watches, and its waiters probe.
//
// So Lock returns within about a millisecond of the holder's death where
// it watches, and within about ProbeInterval (50 ms) elsewhere, plus
// scheduling latency. Limits:
//   - A stopped (SIGSTOP, debugger) or hung holder is alive: waiters wait.
//   - A holder whose process closed the descriptor that holds its token
//     lock counts as dead; another process can then take the mutex while
//     the first still believes it holds it. With classic fcntl locks
//     (everywhere but Linux) closing ANY descriptor of the object drops
//     all of the process's token locks on it. So the fcntl owners of a
//     file share one process-wide entry (owner_fcntl.go) whose descriptor
//     carries their locks and is closed by the last of them, and package
//     shm closes every descriptor of an object through [CloseFD] or
//     [CloseFile], which keep it open while the process has owners on
//     that file (at most 64 per file: beyond, the descriptor is closed and
//     the locks taken again at once, leaving an instant in which a peer's
//     probe can see the holder dead), or [KeepIfLocked] for a descriptor
//     whose Object or Mapping became garbage. The residual rule for users:
//     a descriptor of the object they own themselves (their own open, or
//     a duplicate they got) must stay open, and reachable, while the
//     process holds a mutex in the object. flock owners lock a file of
//     their own per token and never open or close a token file the
//     process holds, so they are immune even where flock is emulated
//     with record locks.
//   - A dead holder's token can be reused by a new process on the same
//     object before a waiter probes; the waiter then sees it alive and
//     waits for that process to exit. With k live owners of an object
//     the chance is about k/2^30 per death.
//   - A process that dies while registered as a semaphore waiter leaves
//     the waiter count one too high: posts then make a needless wake-up
//     system call. Correctness is not affected.
//
// # Windows
//
// The words and the logic on them are the same; what differs is below
// them. There is no cross-process futex (WaitOnAddress wakes only its own
// process), so each handle has a waitQueue: a named kernel semaphore per
// lock word, Local\shm-wait-<hash of the word's key>, the key naming the
// word alike in every process (package shm passes the section's kernel
// name and the word's offset in it; see waitq_windows.go). Waiters sleep
// on it, on an event set by their context's end or the region's Close,
// and (mutex waiters) on the holder's process handle; wakers release it
// when the word says someone sleeps. Elsewhere the waitQueue is the futex
// layer (waitq_futex.go). The owner is a [FileOwner] whose token is held
// by creating the named section Local\shm-owner-<token>, which holds the
// owner's process id and creation time (owner_windows.go,
// owner_record.go): the holder is alive while that section exists and
// names a live process of that creation time.
package lock
