package shm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/shmkit/shm/internal/lock"
	"github.com/shmkit/shm/internal/region"
)

// A Mapping is a view of an object's memory in this process's address
// space, made by [Object.Map], [Object.MapReadOnly] or [Object.MapRange].
//
// # Safety
//
// [Mapping.Bytes] gives direct access to shared memory. Other processes
// can change it at any time, so treat it like memory shared between
// goroutines: use sync/atomic for words that several processes touch, or
// guard the data with a [Mutex] or [Semaphore] placed in the mapping.
// If a peer shrinks the object below the mapped range, a direct access
// past the new end raises SIGBUS and kills the process. Use direct access
// only on objects that cannot shrink under you (sealed with [SealShrink]
// on Linux and FreeBSD, or made and sized by a process you trust), and use
// [Mapping.ReadAt] and [Mapping.WriteAt] otherwise: they turn such a fault
// into [ErrFault].
//
// A Mapping is not unmapped by the garbage collector: call Close. Close
// unmaps the memory, so every slice obtained from Bytes must be dead by
// then. Close is idempotent and safe to call from several goroutines, and
// it waits for ReadAt and WriteAt calls in progress. The [Mutex] and
// [Semaphore] handles of a mapping never outlive its memory: their calls
// in progress end before the unmap (Close wakes those asleep in Lock or
// Wait), and every later call returns an error satisfying
// errors.Is(err, fs.ErrClosed).
type Mapping struct {
	mu      sync.RWMutex // write-held by Close; read-held by ReadAt, WriteAt, Flush
	ref     []byte       // the exact slice mmap returned, for munmap
	data    []byte       // the caller's view: ref without the page skew
	off     int64        // offset of data in the object
	access  Access
	owner   *os.File        // a duplicate of the object's descriptor, for lock liveness
	lockOwn *lock.FileOwner // made by the first Mutex; see lockOwner
	reg     *region.Region  // the hold of lock operations; see region

	ringMu    sync.Mutex         // guards rings and ringsDone; never held with mu by a ring
	rings     map[*Ring]struct{} // open rings, closed by Close before the region
	ringsDone bool               // Close has taken the rings: no ring may be added
	name      string
	closed    bool
}

// Bytes returns the mapped memory. The slice is valid until Close; see the
// type's documentation for the rules of direct access. It returns nil
// after Close.
func (m *Mapping) Bytes() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.data
}

// Len returns the length of the mapping in bytes (0 after Close).
func (m *Mapping) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.data)
}

// Offset returns the offset in the object at which the mapping starts.
func (m *Mapping) Offset() int64 { return m.off }

// Access reports whether the mapping is writable.
func (m *Mapping) Access() Access { return m.access }

// ReadAt copies len(p) bytes starting at off (relative to the mapping)
// into p. It implements [io.ReaderAt]: reading past the end of the mapping
// returns the bytes there are and [io.EOF]. A memory fault during the copy
// (the object was shrunk by a peer) returns [ErrFault] instead of killing
// the process; it uses [debug.SetPanicOnFault] on the calling goroutine
// for the duration of the copy.
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, m.errClosed("read")
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: m.name, Err: fmt.Errorf("negative offset %d", off)}
	}
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n, err := guardedCopy(p, m.data[off:])
	if err != nil {
		return 0, &fs.PathError{Op: "read", Path: m.name, Err: err}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p into the mapping at off (relative to the mapping). It
// implements [io.WriterAt]: a write that does not fit is refused whole
// with an error, and nothing is written. A memory fault during the copy
// returns [ErrFault], as for ReadAt.
func (m *Mapping) WriteAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, m.errClosed("write")
	}
	if m.access != ReadWrite {
		return 0, &fs.PathError{Op: "write", Path: m.name, Err: fmt.Errorf("mapping is read-only: %w", fs.ErrPermission)}
	}
	if off < 0 || off > int64(len(m.data)) || int64(len(p)) > int64(len(m.data))-off {
		return 0, &fs.PathError{Op: "write", Path: m.name, Err: fmt.Errorf("write of %d bytes at offset %d does not fit the %d-byte mapping", len(p), off, len(m.data))}
	}
	n, err := guardedCopy(m.data[off:], p)
	if err != nil {
		return 0, &fs.PathError{Op: "write", Path: m.name, Err: err}
	}
	return n, nil
}

// guardedCopy copies src into dst, turning a memory fault into ErrFault.
func guardedCopy(dst, src []byte) (n int, err error) {
	if err := guardFault(func() { n = copy(dst, src) }); err != nil {
		return 0, err
	}
	return n, nil
}

// guardFault runs fn, which accesses mapped memory, turning a memory
// fault into ErrFault. It uses [debug.SetPanicOnFault] on the calling
// goroutine for the duration of fn.
func guardFault(fn func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			if !ok {
				panic(r)
			}
			if fa, ok := re.(interface{ Addr() uintptr }); ok {
				err = fmt.Errorf("%w at address %#x", ErrFault, fa.Addr())
				return
			}
			// A fault whose reported address is below 0x1000 reaches us
			// as a nil dereference without an address: the runtime
			// cannot tell it apart. fn touches only valid slices, so it
			// can only be the mapping's fault (qemu-user reports SIGBUS
			// with si_addr 0 on arm64 and ppc64le).
			err = fmt.Errorf("%w (%v)", ErrFault, re)
		}
	}()
	fn()
	return nil
}

// Flush writes the mapping's changes back to the object and waits for it
// (msync MS_SYNC). Shared memory needs no flushing to be seen by other
// processes; Flush matters only for objects backed by a disk file.
func (m *Mapping) Flush() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return m.errClosed("msync")
	}
	if err := msync(m.ref); err != nil {
		return &fs.PathError{Op: "msync", Path: m.name, Err: err}
	}
	return nil
}

// Close unmaps the memory. Slices from Bytes must not be used afterwards.
// Close is idempotent and safe from several goroutines; later calls
// return nil.
//
// In order, Close: makes every new call on the mapping and on its
// [Mutex] and [Semaphore] handles fail with an error satisfying
// errors.Is(err, fs.ErrClosed); wakes the calls asleep in [Mutex.Lock]
// and [Semaphore.Wait], which return such an error without the mutex or
// a token; waits until every call in progress has left the memory
// (ReadAt, WriteAt, and lock calls, none of which sleeps for long once
// woken); unmaps; releases the mapping's liveness lock; and returns. So
// a call blocked in Lock or Wait has returned, or is returning, by the
// time Close returns, and no call ever touches unmapped memory.
//
// The uncontended Lock, Unlock, Post and Wait do not count as calls in
// progress (they are a few atomic instructions, kept off the shared
// counter for speed), so on Linux a mapping that has made Mutex or
// Semaphore handles is not unmapped at once: Close replaces the range
// with a private placeholder in which the handles' words are poison
// (such a call racing Close then returns the closed error, and nothing
// reaches the object) and every other page faults, as unmapped memory
// does. The placeholder costs one page per page holding a lock word, and
// the range's address space; it is unmapped when the Mapping and all of
// its handles have become garbage. Close
// does not wait for a mutex held through the mapping to be unlocked
// (holding a mutex is not a call in progress): it counts as held by a
// dead process afterwards (see [Mutex]). The wake-up also reaches
// processes asleep on the same words, which see a spurious wake-up and
// go back to sleep.
func (m *Mapping) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	// Close the rings first: their gated operations take no hold on the
	// region (ring_hold.go), and each Ring.Close returns once its
	// operations are over.
	for _, r := range m.takeRings() {
		r.Close()
	}
	if m.reg != nil {
		// Fail new lock operations, wake those asleep in Lock or Wait,
		// and wait until none holds the memory. Uncontended calls that
		// skip the hold may still be on it: the region retires the range
		// behind a placeholder that stays until the last handle is gone
		// (see region.Unmap).
		m.reg.Close()
		err = m.reg.Unmap(m.ref, munmap)
	} else {
		err = munmap(m.ref)
	}
	m.ref, m.data = nil, nil
	if m.lockOwn != nil {
		if cerr := m.lockOwn.Close(); err == nil && cerr != nil {
			err = cerr
		}
		m.lockOwn = nil
	}
	if m.owner != nil {
		if cerr := lock.CloseFile(m.owner); err == nil && cerr != nil {
			err = cerr
		}
		m.owner = nil
	}
	if err != nil {
		return &fs.PathError{Op: "munmap", Path: m.name, Err: err}
	}
	return nil
}

func (m *Mapping) errClosed(op string) error {
	return &fs.PathError{Op: op, Path: m.name, Err: fs.ErrClosed}
}

// pointer returns a pointer to size bytes at off, which must be a multiple
// of align. It is how the locks find their words.
func (m *Mapping) pointer(off, size, align int) (unsafe.Pointer, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch {
	case m.closed:
		return nil, m.errClosed("attach")
	case m.access != ReadWrite:
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: fmt.Errorf("a lock needs a read-write mapping: %w", fs.ErrPermission)}
	case off < 0 || size <= 0 || off > len(m.data) || size > len(m.data)-off:
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: fmt.Errorf("%d bytes at offset %d do not fit the %d-byte mapping", size, off, len(m.data))}
	}
	p := unsafe.Pointer(&m.data[off])
	if uintptr(p)%uintptr(align) != 0 {
		if m.off != 0 {
			return nil, &fs.PathError{Op: "attach", Path: m.name, Err: fmt.Errorf(
				"offset %d of the mapping is byte %d of the object, which is not %d-byte aligned: the mapping starts at object offset %d; use mapping offset %d, or map from an aligned offset",
				off, m.off+int64(off), align, m.off, off+(align-int(uintptr(p)%uintptr(align)))%align)}
		}
		return nil, &fs.PathError{Op: "attach", Path: m.name, Err: fmt.Errorf("offset %d is not %d-byte aligned", off, align)}
	}
	return p, nil
}

// errNoDescriptor is the error for a mapping made without a descriptor.
var errNoDescriptor = errors.New("mapping has no descriptor")
