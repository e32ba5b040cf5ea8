//go:build unix

package prefetch

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestForWriteUnmapped prefetches an address with no mapping: a prefetch
// is a hint and must not fault.
func TestForWriteUnmapped(t *testing.T) {
	b, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	p := unsafe.Pointer(&b[0])
	if err := unix.Munmap(b); err != nil {
		t.Fatal(err)
	}
	ForWrite(p)
	ForWrite(unsafe.Add(p, 64))
}
