package lock

import "unsafe"

// Mutex word: owner token in the low 30 bits, flags above.
//
// goneBit has one meaning: a watch in some process saw the holder's token
// lock released (watch.go). It only changes the word's value, so that a
// waiter that read the word before and sleeps on it after returns at
// once; waiters then probe the holder. It used to mean also "the holder
// took the mutex over from a dead owner"; that is the state word's
// stateInconsistent alone now, and a take-over clears the bit. (A word
// marked that way by an older build reads as a gone mark: waiters probe
// a live holder once, and go back to sleep.)
const (
	waitersBit = 1 << 31 // someone may sleep in the kernel: Unlock must wake
	goneBit    = 1 << 30 // a watch saw the holder's token lock released
	tokenMask  = 1<<30 - 1
)

// MaxToken is the largest owner token; tokens are in [1, MaxToken].
const MaxToken = tokenMask

// Mutex state word.
const (
	stateConsistent     = 0
	stateInconsistent   = 1 // an owner died; data must be repaired
	stateNotRecoverable = 2 // unlocked without repair: unusable for ever
)

// Semaphore word: value in the low 32 bits, sleeping waiters in the high 32.
const (
	semWaiterShift = 32
	semOneWaiter   = 1 << semWaiterShift
	// SemValueMax is the largest semaphore value (glibc's SEM_VALUE_MAX).
	SemValueMax = 1<<31 - 1
)

func semValue(d uint64) uint32   { return uint32(d) }
func semWaiters(d uint64) uint32 { return uint32(d >> semWaiterShift) }

// bigEndian reports the byte order, which decides where the value half of
// the semaphore word lies.
var bigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()

// semValueHalf returns the 32-bit half of the semaphore word that holds
// the value: the futex word that waiters sleep on.
func semValueHalf(w *uint64) *uint32 {
	if bigEndian {
		return (*uint32)(unsafe.Add(unsafe.Pointer(w), 4))
	}
	return (*uint32)(unsafe.Pointer(w))
}
