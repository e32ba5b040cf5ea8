package shm

import "unsafe"

// The ring's hold on its mapping. A ring operation touches the mapped
// memory only between holdRing and releaseRing; a blocked operation
// releases its hold while it sleeps, so Mapping.Close never waits for a
// sleeper, and the sleeper finds the mapping closed when it wakes (its
// sleep is bounded by a slice; see ringSlice).
//
// This is a private hook so that adopting the Mapping's own operation
// hold, when it exists, changes only these two functions.

// holdRing keeps the mapping mapped until releaseRing and returns the
// address of its byte off; false if it is closed. Ring handles keep
// offsets, not pointers, so that nothing points into the memory once it
// is unmapped.
func (m *Mapping) holdRing(off int) (unsafe.Pointer, bool) {
	m.mu.RLock()
	if m.closed || off < 0 || off >= len(m.data) {
		m.mu.RUnlock()
		return nil, false
	}
	return unsafe.Pointer(&m.data[off]), true
}

// releaseRing ends a holdRing that returned true.
func (m *Mapping) releaseRing() { m.mu.RUnlock() }

// reholdRing takes a hold that releaseRing ends even on a closed mapping,
// after holdRing failed, so that a caller's deferred releaseRing stays
// balanced. It touches no memory.
func (m *Mapping) reholdRing() { m.mu.RLock() }
