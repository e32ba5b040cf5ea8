//go:build !(linux || freebsd || netbsd || dragonfly)

package shm

// canYield: darwin, OpenBSD, illumos and Solaris take system calls through
// their libc only, and windows has no sched_yield; a spin there does not
// yield after a wake-up (ring_yield.go). That would need a trampoline to
// libc's sched_yield (darwin, OpenBSD) or SwitchToThread (windows).
const canYield = false

func osYield() {}
