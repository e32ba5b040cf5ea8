package shm

import "unsafe"

// The ring's hold on its mapping: the Mapping's operation hold (see
// hold.go and internal/region). A ring operation touches the mapped memory
// only between holdRing and releaseRing, and stays inside while it sleeps
// on a wake word, registered with WakeOnClose, so that Mapping.Close wakes
// it, waits for it to leave, and only then unmaps. The handle keeps an
// offset, never a pointer into the memory.

// holdRing enters the hold and returns the address of the ring's first
// byte; false once the mapping is closing.
func (r *Ring) holdRing() (unsafe.Pointer, bool) {
	base, err := r.reg.Acquire()
	if err != nil {
		return nil, false
	}
	return unsafe.Add(base, r.off), true
}

// releaseRing leaves the hold entered by a holdRing that returned true.
func (r *Ring) releaseRing() { r.reg.Release() }
