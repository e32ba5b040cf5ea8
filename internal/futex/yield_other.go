//go:build !linux && !freebsd && !netbsd && !dragonfly && !darwin && !openbsd && !windows

package futex

// CanYield reports whether Yield gives up the CPU on this system. Here
// (illumos, Solaris, and the systems with no shared memory) waits poll
// (native_other.go) and nothing else sleeps in the kernel: a wake-up
// makes no sleeper runnable, so there is nothing to yield to, and Yield
// does nothing.
const CanYield = false

// Yield does nothing on this system (see CanYield).
func Yield() {}
