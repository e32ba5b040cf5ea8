//go:build unix

package shm

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shmkit/shm/internal/lock"
)

// A handle owns an Object's descriptor.
//
// It counts the operations in flight, so that Close never pulls the
// descriptor from under one: the descriptor is closed when it is both
// marked closed and no operation holds it (the scheme of internal/poll's
// fdMutex, reduced to what an Object needs). Every method of Object that
// touches the descriptor goes through acquire and release.
//
// The handle's own *os.File is made on first need only (Pass hands it to
// exec.Cmd; Object.File returns a duplicate instead, which the caller
// owns). os.NewFile costs a fcntl(F_GETFL) and several allocations, a
// fifth of what CreateAnon costs when nobody needs the file; see
// BENCHMARKS.md. Once made, the file owns the descriptor and closing the
// handle closes the file; it never leaves the package.
type handle struct {
	refs handleRefs // operations in flight and whether close was called
	fd   int
	name string // the name os.File reports

	mu   sync.Mutex // serialises making the file
	file atomic.Pointer[os.File]
}

// sysHandle is what an Object holds on the Unix systems: a descriptor.
type sysHandle = int

// raw returns the descriptor.
func (h *handle) raw() int { return h.fd }

// newHandle takes ownership of fd. obj is the Object the handle belongs
// to: if obj is collected while the descriptor is still open and no
// *os.File was ever made of it, the descriptor is closed, as an
// unreferenced *os.File closes its own.
func newHandle(obj *Object, fd int, name string) *handle {
	h := &handle{fd: fd, name: name}
	runtime.AddCleanup(obj, (*handle).collect, h)
	return h
}

// newFileHandle takes ownership of f, whose descriptor is fd.
func newFileHandle(f *os.File, fd int) *handle {
	h := &handle{fd: fd, name: f.Name()}
	h.file.Store(f)
	return h
}

// destroy closes the descriptor, through the file if there is one. It
// runs exactly once: when the state first reaches closed-and-idle. The
// close goes through internal/lock, which keeps the descriptor open
// instead while this process holds classic fcntl locks on the object
// (closing it would drop them all; see lock.CloseFD).
func (h *handle) destroy() error {
	if f := h.file.Load(); f != nil {
		return lock.CloseFile(f)
	}
	// close(2) is not retried on EINTR: the descriptor is gone either way
	// on the systems shm runs on.
	return lock.CloseFD(h.fd)
}

// collect closes the descriptor of an Object that was never closed and
// has become unreachable. When a file was made, the file's own finalizer
// owns the descriptor (someone may still hold the file), unless this
// process holds classic locks on the object: then the lock registry takes
// the file (see lock.KeepIfLocked).
func (h *handle) collect() {
	if f := h.file.Load(); f == nil {
		_ = h.close()
	} else {
		// Unless this process holds classic locks on the object: then
		// the file's finalizer would drop them, and the lock registry
		// keeps the file until they are released.
		lock.KeepIfLocked(f)
	}
}
