package lock

import (
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// How a watch is stopped. A thread blocked in F_OFD_SETLKW cannot be
// woken by closing its descriptor (the call holds its own reference to
// the open file description), and nothing but the holder's release or a
// signal ends the wait. So releaseWatch first makes the watch's
// descriptor number refer to something that takes no locks, an O_PATH
// descriptor of "/" (dup3 replaces it atomically; the watch still owns
// the number, and closes it itself), then sends SIGURG to the waiting
// thread with tgkill. The Go runtime handles SIGURG on every thread (it
// is its preemption signal, so a spurious one is expected and harmless).
// The signal interrupts the wait; since Go installs its handlers with
// SA_RESTART, the kernel restarts fcntl, which now finds the O_PATH
// descriptor and fails with EBADF; without restart the loop in waitFree
// retries and fails the same way. Every ordering ends the wait: if the
// thread has not yet entered fcntl, it enters it on the O_PATH descriptor;
// if it is inside but not yet asleep, the pending signal makes the sleep
// return at once. The open file description the watch waited on loses its
// last descriptor at the dup3 (the kernel drops its own reference when the
// interrupted call returns), which releases any lock it had been granted
// meanwhile. The thread's id is stable because the watch's goroutine is
// locked to its thread for the whole wait.
//
// A process that ignores SIGURG (signal.Ignore) cannot interrupt its
// watches: it gets none, and its waiters probe.

// stopFD is the O_PATH descriptor that replaces an interrupted watch's.
var stopFD = sync.OnceValues(func() (int, error) {
	return unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
})

// canInterruptWait reports whether a watch could be stopped now.
func canInterruptWait() bool {
	_, err := stopFD()
	return err == nil && !signal.Ignored(syscall.SIGURG)
}

// interruptWait ends the wait of thread tid on descriptor fd, which stays
// open (now on stopFD) for its owner to close.
func interruptWait(fd, tid int) {
	sfd, err := stopFD()
	if err != nil || fd < 0 {
		return
	}
	if err := unix.Dup3(sfd, fd, unix.O_CLOEXEC); err != nil {
		return
	}
	_ = unix.Tgkill(unix.Getpid(), tid, unix.SIGURG)
}

func threadID() int { return unix.Gettid() }

func closeWaitFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
