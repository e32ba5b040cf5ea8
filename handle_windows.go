package shm

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/windows"
)

// A handle owns an Object's section handle, with the scheme of the Unix
// descriptor's (handle_unix.go): operations in flight are counted, and
// the handle is closed when it is both marked closed and idle.
type handle struct {
	refs handleRefs // operations in flight and whether close was called
	h    windows.Handle
	name string // the name os.File reports

	mu   sync.Mutex // serialises making the file
	file atomic.Pointer[os.File]
}

// sysHandle is what an Object holds on windows: a section handle.
type sysHandle = windows.Handle

// raw returns the section handle.
func (h *handle) raw() windows.Handle { return h.h }

// newHandle takes ownership of h; if obj is collected while h is open
// and no *os.File was made of it, h is closed.
func newHandle(obj *Object, h windows.Handle, name string) *handle {
	hd := &handle{h: h, name: name}
	runtime.AddCleanup(obj, (*handle).collect, hd)
	return hd
}

// destroy closes the section handle, through the file if one was made.
func (h *handle) destroy() error {
	if f := h.file.Load(); f != nil {
		return f.Close()
	}
	return windows.CloseHandle(h.h)
}

// collect closes the handle of an Object that became unreachable unclosed;
// once a file was made, the file's own cleanup owns the handle.
func (h *handle) collect() {
	if h.file.Load() == nil {
		_ = h.close()
	}
}
