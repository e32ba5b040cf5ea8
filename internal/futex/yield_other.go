//go:build !linux && !freebsd && !netbsd && !dragonfly && !darwin && !openbsd

package futex

// CanYield reports whether Yield gives up the CPU on this system. Here
// waits poll (native_other.go): a wake-up makes no sleeper runnable, so
// there is nothing to yield to, and Yield does nothing.
const CanYield = false

// Yield does nothing on this system (see CanYield).
func Yield() {}
