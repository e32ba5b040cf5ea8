package shm

import (
	"io/fs"
	"unsafe"

	"github.com/shmkit/shm/internal/region"
)

// region returns the mapping's operation hold, made on first use: the
// [region.Region] over the mapping's memory that every handle placed in
// the mapping (Mutex, Semaphore, and any later handle type) holds for the
// length of each operation. Close closes it before unmapping: new
// operations fail with fs.ErrClosed, operations asleep on a word they
// registered with WakeOnClose are woken, and the unmap waits until every
// operation has left. See package region for the rules a handle type
// follows; in short:
//
//	base, err := r.Acquire()       // fs.ErrClosed once Close has begun
//	if err != nil { return &fs.PathError{Op: op, Path: m.name, Err: err} }
//	defer r.Release()
//	word := (*uint32)(unsafe.Add(base, off)) // valid until Release
//	...
//	defer r.WakeOnClose(word)()    // around a futex sleep on word
//	futex.Wait(word, v, deadline)
//	if err := r.Err(); err != nil { ... leave, return it }
//
// Handles keep the region and an offset, never a pointer into the
// memory. An operation must not take m.mu: Close holds it while it waits
// for the operations to leave. Uncontended calls may skip the hold as
// fast calls (region.Fast, on words pinned with region.Pin); Close then
// ends the memory with region.Unmap, which retires the range behind a
// placeholder instead of unmapping it under them.
func (m *Mapping) region() (*region.Region, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, m.errClosed("attach")
	}
	if m.reg == nil {
		m.reg = region.New(unsafe.Pointer(unsafe.SliceData(m.data)), len(m.data))
	}
	return m.reg, nil
}

// addRing registers r, to be closed by Close before the region; it fails
// once Close has begun.
func (m *Mapping) addRing(r *Ring) error {
	m.ringMu.Lock()
	defer m.ringMu.Unlock()
	if m.ringsDone {
		return fs.ErrClosed
	}
	if m.rings == nil {
		m.rings = map[*Ring]struct{}{}
	}
	m.rings[r] = struct{}{}
	return nil
}

// forgetRing removes r, closed, from the registry.
func (m *Mapping) forgetRing(r *Ring) {
	m.ringMu.Lock()
	defer m.ringMu.Unlock()
	delete(m.rings, r)
}

// takeRings returns the open rings and refuses new ones.
func (m *Mapping) takeRings() []*Ring {
	m.ringMu.Lock()
	defer m.ringMu.Unlock()
	m.ringsDone = true
	rs := make([]*Ring, 0, len(m.rings))
	for r := range m.rings {
		rs = append(rs, r)
	}
	m.rings = nil
	return rs
}
