//go:build unix

package shm

import (
	"os"
	"runtime"

	"github.com/shmkit/shm/internal/lock"
)

// keepDroppedOwner covers a Mapping dropped without Close. Its memory
// stays mapped (no finalizer unmaps), but its duplicate descriptor would
// be closed by the *os.File's finalizer, and with classic fcntl locks that
// close drops every liveness lock this process holds on the object,
// other Mappings' included. So when the Mapping becomes garbage, the
// descriptor goes to the lock registry instead if such locks are held
// (the cleanup's argument keeps the file reachable until then).
func keepDroppedOwner(m *Mapping) *Mapping {
	if m.owner != nil {
		runtime.AddCleanup(m, func(f *os.File) { lock.KeepIfLocked(f) }, m.owner)
	}
	return m
}

// collectFile gives an Object whose handle owns an *os.File the cleanup
// that Objects without one have (see handle.collect): dropped without
// Close, the file goes to the lock registry if this process holds classic
// locks on the object, instead of being closed by its finalizer.
func collectFile(o *Object) *Object {
	runtime.AddCleanup(o, (*handle).collect, o.h)
	return o
}
