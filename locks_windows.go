package shm

// lockSupport says why the locks placed in a mapping ([Mutex],
// [Semaphore]) do not work on Windows yet: waking a waiter in another
// process needs a kernel object per lock word (WaitOnAddress only wakes
// the same process), and telling that a holder died needs a process
// handle per holder; neither is built yet, and shm does not ship a lock
// that polls.
func lockSupport() error {
	return errUnsupported("Mutex and Semaphore in a mapping (cross-process wake-up and owner death are not built for windows yet; use a named Windows mutex or semaphore)")
}
