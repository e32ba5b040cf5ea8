//go:build unix || windows

package shm

import "sync/atomic"

// handleRefs is the reference count of a handle (handle_unix.go,
// handle_windows.go): the operations in flight and whether close was
// called, in one word, so that Close never pulls a descriptor or section
// handle from under an operation. The resource is destroyed exactly once,
// by whichever of close and the last release finds the word closed and
// idle (the scheme of internal/poll's fdMutex, reduced to what an Object
// needs).
type handleRefs struct {
	state atomic.Uint64 // handleClosed | number of operations in flight
}

const handleClosed = 1 << 63

// acquire marks an operation in flight. It reports false once close was
// called; the resource must not be used then.
func (r *handleRefs) acquire() bool {
	for {
		s := r.state.Load()
		if s&handleClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// release ends an operation. It reports whether the caller must destroy
// the resource: close was called and this was the last operation.
func (r *handleRefs) release() bool {
	return r.state.Add(^uint64(0)) == handleClosed
}

// markClosed records the close. It reports whether the caller must
// destroy the resource now: this is the first close and no operation
// holds it (otherwise the last release destroys it).
func (r *handleRefs) markClosed() bool {
	for {
		s := r.state.Load()
		if s&handleClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s|handleClosed) {
			return s == 0
		}
	}
}

// closed reports whether close was called.
func (r *handleRefs) closed() bool { return r.state.Load()&handleClosed != 0 }

// acquire marks an operation in flight on the handle. It reports false
// once the handle is closed; its descriptor or section handle must not be
// used then.
func (h *handle) acquire() bool { return h.refs.acquire() }

// release ends an operation; the last one after close destroys the
// handle's descriptor or section handle (destroy, per system).
func (h *handle) release() {
	if h.refs.release() {
		_ = h.destroy()
	}
}

// close marks the handle closed. It destroys the descriptor or section
// handle at once when no operation holds it, and returns that close's
// error; otherwise the last release does. Only the first call does
// anything.
func (h *handle) close() error {
	if h.refs.markClosed() {
		return h.destroy()
	}
	return nil
}

// closed reports whether close was called.
func (h *handle) closed() bool { return h.refs.closed() }
