// Package shm is shared memory for Go that behaves the same on every Unix,
// stays alive as long as it is used, and carries its own locks.
//
// # Objects
//
// An [Object] is a shared-memory object held through a descriptor. It is
// anonymous or named:
//
//   - [CreateAnon] makes an object with no name at all (memfd on Linux,
//     SHM_ANON on FreeBSD, a name unlinked at once elsewhere). Nothing can
//     leak, collide or be reaped: it lives while someone holds it.
//   - [Create] and [Open] make and open a named object, which is the very
//     object that the C library's shm_open opens under that name on the
//     same OS: /dev/shm/NAME on Linux, /tmp/<sha256>.shm on OpenBSD, a
//     kernel object on FreeBSD and darwin. [ValidName] checks a name
//     against the OS's rules, [ValidPortableName] against the rules that
//     hold everywhere.
//
// # Mappings
//
// [Object.Map] maps an object into memory as a [Mapping]. [Mapping.Bytes]
// is the memory itself; [Mapping.ReadAt] and [Mapping.WriteAt] copy in
// and out and turn a fault (a peer shrank the object, or the host ran out
// of memory for a page a foreign program never reserved) into [ErrFault]
// instead of a SIGBUS. shm itself reserves the memory of every size it
// sets ([Object.Truncate]), so its own objects do not run out. Mappings are never unmapped by a finalizer: close
// them.
//
// # Passing
//
// Objects go to other processes without a name: across exec with [Pass]
// and [Inherited], over a Unix socket with [Send] and [Receive]
// (SCM_RIGHTS). Descriptors are close-on-exec everywhere else.
//
// # Lifetime
//
// A named object lives until its name is unlinked and the last descriptor
// and mapping are gone, unless something deletes the name first: OpenBSD's
// daily(8) deletes /tmp files not accessed for a week (mapping an object
// never refreshes its times), systemd-logind's RemoveIPC deletes a user's
// objects at logout, tmpfiles.d rules age files, and a container's 64 MiB
// /dev/shm fills up. [Object.KeepAlive] touches the object and holds a
// shared flock that cleaners respect; [Object.Check] reports
// [ErrNameLost] when the name no longer leads to the object; package
// [github.com/shmkit/shm/doctor] lists what on this host would delete
// objects.
//
// # Locks
//
// A [Semaphore] and a [Mutex] live inside a mapping, at an offset of your
// choice, and work across processes. All-zero bytes are a valid initial
// state. The uncontended paths make no system call; waiters sleep on the
// OS's cross-process futex (futex, _umtx_op, __ulock, umtx_sleep) or a
// polling fallback. A Mutex whose holder dies is handed to the next locker
// with [ErrOwnerDead], as POSIX robust mutexes do.
//
// A lock handle never outlives its Mapping's memory: each call holds the
// mapping open for its duration, and once the Mapping is closed every call
// returns an error satisfying errors.Is(err, [io/fs.ErrClosed]).
// [Mapping.Close] first fails new calls, then wakes the calls asleep in
// [Mutex.Lock] and [Semaphore.Wait] (they return that error, without the
// mutex or a token), waits until no call is inside the memory, and only
// then unmaps and returns. A mutex held through the Mapping is not a call
// in progress: Close does not wait for it, and other processes then see
// its holder as dead.
//
// # Rings
//
// A [Ring] is a queue of messages inside a mapping, at an offset of your
// choice ([RingSize] tells the bytes it needs): many senders, goroutines
// and processes, into one receiver at a time, each message whole and each
// sender's in order. All-zero bytes are an empty ring. Neither side makes
// a system call while the other is awake; a waiting side spins briefly,
// then sleeps on the same futex layer as the locks. A sender killed
// mid-message costs that message only ([RingStats.Lost]); a receiver
// killed mid-[Ring.Peek] leaves every message it had not released to the
// next receiver. Every index and length read from the ring is checked:
// bytes no correct peer writes give [ErrRingCorrupt], never a panic or an
// access outside the ring. A handle is safe for concurrent use; where one
// goroutine sends, [Ring.Sender] takes the sending side for it (and
// [Ring.Receiver] the receiving side), and where one handle is the only
// sender, [Ring.OpenSendExclusive] says so: each saves an atomic
// read-modify-write per message. A ring handle, like a lock handle, never
// outlives its Mapping's memory: [Mapping.Close] closes the Mapping's
// rings first, waking their waiting calls, and waits for their calls to
// leave.
//
// # Connections
//
// [Listen] and [Dial] make a [net.Conn] over two rings in an anonymous
// object that a Unix socket hands over; code written for [net.Listener]
// and net.Conn, gRPC and net/http included, runs unchanged.
//
// # Environment
//
// The package reads one environment variable, SHMDEBUG, once, in the style
// of GODEBUG, for hosts whose kernel misbehaves: anon=memfd|tmpfile|random
// forces the route of [CreateAnon] on Linux, futex=poll makes waits poll
// instead of sleeping in the kernel, owner=ofd|fcntl|flock forces the
// liveness lock of mutex owners (every process sharing a mutex must use
// the same), fence=locked keeps the handles' in-process gates on atomic
// stores rather than plain stores and membarrier(2) (Linux on amd64).
// Settings it does not know are ignored; `shm doctor` reports
// them.
//
// # Errors
//
// Named operations return *[io/fs.PathError], so errors.Is works with
// [io/fs.ErrExist], [io/fs.ErrNotExist] and [io/fs.ErrPermission].
// Operations on closed objects and mappings, and on the lock handles of a
// closed mapping, wrap [io/fs.ErrClosed]. The failures of lock calls name
// the call and wrap a sentinel: [ErrNotHeld] from [Mutex.Unlock] and
// [Mutex.MarkConsistent] of a mutex not held through that Mapping,
// [ErrOverflow] from [Semaphore.Post] at the maximum value. The outcomes
// [ErrOwnerDead] and [ErrNotRecoverable] (from Lock and TryLock, and
// ErrNotRecoverable from MarkConsistent) and the context's errors (from
// Lock and Wait) are returned as they are.
// Features an OS lacks wrap [errors.ErrUnsupported] and name the OS.
package shm
