package shm

import (
	"testing"
	"unsafe"
)

// TestLineAfter: for rings at offsets that are and are not multiples of
// the line, the word touched for a header is the first of the next line,
// or, past the end of the data area, a word inside it.
func TestLineAfter(t *testing.T) {
	const n = 4096 + 4096
	offs := []int{0, 8, 24, 56, 64, 1000}
	m := anonMapping(t, len(offs)*2*n)
	for i, mis := range offs {
		off := i*2*n + mis
		r, err := m.Ring(off, n)
		if err != nil {
			t.Fatal(err)
		}
		v, err := r.enter("test")
		if err != nil {
			t.Fatal(err)
		}
		data := uintptr(unsafe.Pointer(&v.data()[0]))
		end := data + uintptr(v.cap)
		for _, h := range []uint64{0, 8, 48, 56, 64, 120, v.cap - 64, v.cap - 8, v.cap, 5*v.cap + 56} {
			hp := uintptr(unsafe.Pointer(v.hdr(h)))
			p := uintptr(unsafe.Pointer(v.lineAfter(h)))
			if p < data || p+8 > end {
				t.Errorf("ring at %d, header %d: touched word %#x outside the data area [%#x, %#x)", off, h, p, data, end)
				continue
			}
			next := hp&^(touchLine-1) + touchLine
			if next+8 <= end && p != next {
				t.Errorf("ring at %d, header %d at %#x: touched %#x, want the next line %#x", off, h, hp, p, next)
			}
		}
		v.leave()
		r.Close()
	}
}
