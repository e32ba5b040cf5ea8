//go:build unix || windows

package shm

import "os"

// osFile returns the *os.File for the handle's descriptor (on windows,
// its section handle), made on the first call; the file then owns it.
// After close it returns the file if one was made, else nil.
func (h *handle) osFile() *os.File {
	if f := h.file.Load(); f != nil {
		return f
	}
	if !h.acquire() {
		return h.file.Load()
	}
	defer h.release()
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.file.Load(); f != nil {
		return f
	}
	f := os.NewFile(uintptr(h.raw()), h.name)
	h.file.Store(f)
	return f
}
