package region

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sharedPages maps n pages of a new memfd, as package shm maps an object.
func sharedPages(t *testing.T, n int) (fd int, mem []byte) {
	t.Helper()
	fd, err := unix.MemfdCreate("region-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skipf("no memfd_create here: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	size := n * os.Getpagesize()
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	return fd, mem
}

// mapsLine returns the /proc/self/maps line of the mapping that holds
// addr, or "".
func mapsLine(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(sc.Text(), "%x-%x", &lo, &hi); err == nil && lo <= addr && addr < hi {
			return sc.Text()
		}
	}
	return ""
}

// TestUnmapRetiresBehindPoison: after Close and Unmap, the pinned word
// of the range reads as poison in this process while the object keeps its
// bytes (the placeholder is private), the unpinned page is PROT_NONE, fast
// calls are refused, and the range is unmapped once the region is garbage.
func TestUnmapRetiresBehindPoison(t *testing.T) {
	fd, mem := sharedPages(t, 3)
	page := os.Getpagesize()
	const off = 8
	r := New(unsafe.Pointer(&mem[0]), len(mem))
	if err := r.Pin(off, 8); err != nil {
		t.Fatal(err)
	}
	word := (*uint64)(unsafe.Pointer(&mem[off]))
	atomic.StoreUint64(word, 42)
	addr := uintptr(unsafe.Pointer(&mem[0]))

	r.Close()
	if err := r.Pin(16, 8); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Pin after Close: %v", err)
	}
	if err := r.Unmap(mem, unix.Munmap); err != nil {
		t.Fatal(err)
	}
	if !Retired(addr) {
		t.Fatal("the range is not retired after Unmap")
	}
	if r.Fast() != nil {
		t.Error("Fast gave a base after Close")
	}
	// This process sees poison where the word was ...
	if v := atomic.LoadUint64(word); v != ^uint64(0) {
		t.Errorf("pinned word reads %#x after Unmap, want poison", v)
	}
	// ... the object does not.
	var b [8]byte
	if _, err := unix.Pread(fd, b[:], off); err != nil {
		t.Fatal(err)
	}
	if got := *(*uint64)(unsafe.Pointer(&b[0])); got != 42 {
		t.Errorf("the object's word is %#x after Unmap, want 42", got)
	}
	if l := mapsLine(t, addr); !strings.Contains(l, " rw-p ") || strings.Contains(l, "memfd") {
		t.Errorf("pinned page after Unmap: %q, want a private anonymous rw-p page", l)
	}
	if l := mapsLine(t, addr+uintptr(page)); !strings.Contains(l, " ---p ") {
		t.Errorf("unpinned page after Unmap: %q, want ---p", l)
	}
	word, mem = nil, nil

	// The range goes when the region is garbage; the test's deadline
	// bounds the wait.
	r = nil
	for Retired(addr) {
		runtime.GC()
		runtime.Gosched()
	}
}

// TestUnmapWithoutPins: a region no fast call used is simply unmapped.
func TestUnmapWithoutPins(t *testing.T) {
	_, mem := sharedPages(t, 1)
	addr := uintptr(unsafe.Pointer(&mem[0]))
	r := New(unsafe.Pointer(&mem[0]), len(mem))
	r.Close()
	if err := r.Unmap(mem, unix.Munmap); err != nil {
		t.Fatal(err)
	}
	if Retired(addr) {
		t.Error("a range without pinned words was retired")
	}
	if l := mapsLine(t, addr); strings.Contains(l, "memfd") {
		t.Errorf("the object is still mapped: %q", l)
	}
}
