//go:build unix || windows

package shm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// touchStride is the distance between two accesses of the pre-touch of
// [Populate]: 4 KiB, the smallest page a hypervisor backs guest memory
// with, whatever the guest's own page size (16 or 64 KiB on some arm64
// and ppc64 kernels, 2 MiB or 1 GiB for huge pages). On a host that backs
// guest memory lazily every 4 KiB of it takes its own host-side fault the
// first time the guest touches it, even when the guest kernel has mapped
// it already, under a huge page too; touching a page already backed costs
// a cache miss.
const touchStride = 4 << 10

// populateChunkMin is the least a goroutine of [Populate] prefaults: a
// mapping of less than twice this is prefaulted by the calling goroutine
// alone, and no goroutine is started. A test binary lowers it
// (export_linux_test.go) to force the parallel path on small mappings.
var populateChunkMin int64 = 64 << 20

// populateChunks returns how many goroutines prefault a mapping of length
// bytes: one per populateChunkMin, at most GOMAXPROCS.
func populateChunks(length int64) int {
	n := int64(runtime.GOMAXPROCS(0))
	if m := length / populateChunkMin; m < n {
		n = m
	}
	return int(max(n, 1))
}

// populate prefaults ref, a whole new mapping in pages of align bytes,
// for access: prefault (the OS's call, or nil where there is none) then
// the pre-touch (touchPages), chunk by chunk, on up to populateChunks
// goroutines, chunks aligned to align. It returns when every goroutine
// is done, with the error of the first chunk (in address order) that
// failed; a failure makes the other chunks stop early.
func populate(ref []byte, align int64, access Access, prefault func([]byte) error) error {
	n := populateChunks(int64(len(ref)))
	if n == 1 {
		return populateChunk(ref, access, prefault, nil)
	}
	align = max(align, touchStride)
	chunk := (int64(len(ref))/int64(n) + align - 1) / align * align
	errs := make([]error, 0, n)
	var (
		wg     sync.WaitGroup
		failed atomic.Bool
	)
	for start := int64(0); start < int64(len(ref)); start += chunk {
		part := ref[start:min(start+chunk, int64(len(ref)))]
		errs = append(errs, nil)
		e := &errs[len(errs)-1]
		wg.Go(func() {
			if *e = populateChunk(part, access, prefault, &failed); *e != nil {
				failed.Store(true)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// populateChunk prefaults b, then touches its pages unless another
// chunk failed (stop; nil for a lone chunk).
func populateChunk(b []byte, access Access, prefault func([]byte) error, stop *atomic.Bool) error {
	if prefault != nil {
		if err := prefault(b); err != nil {
			return err
		}
	}
	if err := guardFault(func() { touchPages(b, access, stop) }); err != nil {
		return fmt.Errorf("touching the pages: %w", err)
	}
	return nil
}

// touchPages accesses one 32-bit word every touchStride bytes of b, which
// starts on a page boundary: for ReadWrite an atomic add of 0, a write
// that leaves the word as it was even while other processes write it
// (the read, the add and the store are one indivisible operation, so no
// write of theirs is lost), for ReadOnly an atomic load, which the
// compiler cannot leave out. It checks stop every 1 MiB.
func touchPages(b []byte, access Access, stop *atomic.Bool) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	for off := 0; off < len(b); off += touchStride {
		if stop != nil && off&(1<<20-1) == 0 && stop.Load() {
			return
		}
		w := (*uint32)(unsafe.Add(p, off))
		if access == ReadWrite {
			atomic.AddUint32(w, 0)
		} else {
			atomic.LoadUint32(w)
		}
	}
}
