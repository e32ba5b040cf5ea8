package region

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FastCalls reports whether calls may skip the hold (see Fast): Linux can
// replace a mapping by another in one step (mremap with MREMAP_FIXED).
const FastCalls = true

// Unmap ends mem, the whole mapping that the region lies in (as mmap
// returned it), after Close has returned; unmap is the owner's munmap. If
// no word was pinned, no fast call can be on the memory, and Unmap just
// calls unmap(mem).
//
// Otherwise a fast call may still be between its Fast and its last access
// (it passed the closing bit before Close set it), so the range must stay
// mapped. Unmap builds a placeholder: a private anonymous mapping of the
// same length, elsewhere, with every pinned word set to all ones, and
// moves it over mem with mremap(MREMAP_FIXED), which unmaps the old pages
// and installs the new ones under the address space's write lock: a
// racing access finds either the object's page (then it is an access
// that happened before Close, and the kernel frees no page before every
// CPU's TLB has forgotten it) or the poison, never a hole. Every fast path
// fails on poison and takes the held path, which returns fs.ErrClosed. No
// fast path's compare-and-swap succeeds on poison, so poison stays poison
// (a failed compare-and-swap may still write the old value back, which is
// why the placeholder is writable). The rest of the placeholder is then
// made PROT_NONE, so that a stray access through an old Bytes slice
// faults as it did on unmapped memory; only the pinned pages take memory (one page each, and
// their page tables), and the range keeps its address space.
//
// The placeholder is unmapped (with unmap(mem), so that the owner's
// bookkeeping of mem ends too) by a cleanup that runs when the region is
// unreachable: every handle keeps its region, and every call keeps it
// alive to its last access, so no call is left that could touch the
// range, and only then may the address be reused.
//
// If the placeholder cannot be made (out of memory or of mappings), the
// object's own mapping stays in place until that cleanup: still sound
// (fast calls that raced with Close touch the object, as if they had run
// just before Close; later calls see the closing bit), at the cost of
// keeping the object's memory mapped.
func (r *Region) Unmap(mem []byte, unmap func([]byte) error) error {
	r.mu.Lock()
	pins := make(map[int]int, len(r.pins))
	for off, n := range r.pins {
		pins[off] = n
	}
	r.mu.Unlock()
	if len(pins) == 0 || len(mem) == 0 {
		return unmap(mem)
	}
	start := unsafe.Pointer(unsafe.SliceData(mem))
	size := uintptr(len(mem))
	skew := uintptr(r.base) - uintptr(start) // where the region starts in mem
	ph, err := unix.MmapPtr(-1, 0, nil, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		r.unmapWhenUnreachable(mem, unmap)
		return nil
	}
	pinned := map[uintptr]bool{} // page offsets in mem
	page := uintptr(os.Getpagesize())
	for off, n := range pins {
		from := skew + uintptr(off)
		b := unsafe.Slice((*byte)(unsafe.Add(ph, from)), n)
		for i := range b {
			b[i] = 0xff
		}
		for p := from &^ (page - 1); p < from+uintptr(n); p += page {
			pinned[p] = true
		}
	}
	if _, err := unix.MremapPtr(ph, size, start, size, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED); err != nil {
		_ = unix.MunmapPtr(ph, size)
		r.unmapWhenUnreachable(mem, unmap)
		return nil
	}
	// No fast call touches an unpinned page: fault on them again.
	for p := uintptr(0); p < size; {
		if pinned[p] {
			p += page
			continue
		}
		q := p
		for q < size && !pinned[q] {
			q += page
		}
		_ = unix.Mprotect(unsafe.Slice((*byte)(unsafe.Add(start, p)), q-p), unix.PROT_NONE)
		p = q
	}
	r.unmapWhenUnreachable(mem, unmap)
	return nil
}

// unmapWhenUnreachable unmaps mem once r is garbage. The cleanup holds
// mem, a slice of memory the garbage collector does not manage, and not r.
func (r *Region) unmapWhenUnreachable(mem []byte, unmap func([]byte) error) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	retired.Lock()
	retired.m[start] = true
	retired.Unlock()
	runtime.AddCleanup(r, func(mem []byte) {
		_ = unmap(mem)
		retired.Lock()
		delete(retired.m, start)
		retired.Unlock()
	}, mem)
}

// retired records the ranges of the process that wait for their region
// to become unreachable, by start address.
var retired = struct {
	sync.Mutex
	m map[uintptr]bool
}{m: map[uintptr]bool{}}

// Retired reports whether the range that starts at addr is retired and
// still mapped, waiting for the last handle on it to become garbage (for
// tests and diagnostics).
func Retired(addr uintptr) bool {
	retired.Lock()
	defer retired.Unlock()
	return retired.m[addr]
}
