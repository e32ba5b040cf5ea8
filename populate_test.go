//go:build unix || windows

package shm_test

import (
	"testing"

	"github.com/shmkit/shm"
)

// TestPopulatePortable checks on every OS, the ones where Populate is the
// pre-touch alone included, that Map, MapReadOnly and MapRange with
// Populate leave the content as it was and give an ordinary mapping.
func TestPopulatePortable(t *testing.T) {
	const size = 1 << 20
	o, err := shm.CreateAnon(size)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Bytes() {
		m.Bytes()[i] = byte(i*7 + i>>12)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, b []byte, off int) {
		t.Helper()
		for i := range b {
			if want := byte((off+i)*7 + (off+i)>>12); b[i] != want {
				t.Fatalf("%s: byte %d is %#x, want %#x", what, off+i, b[i], want)
			}
		}
	}
	rw, err := o.Map(shm.Populate())
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	check("Map(Populate())", rw.Bytes(), 0)
	ro, err := o.MapReadOnly(shm.Populate())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	check("MapReadOnly(Populate())", ro.Bytes(), 0)
	const off = 64<<10 + 3
	r, err := o.MapRange(off, 8192, shm.ReadWrite, shm.Populate())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check("MapRange(Populate())", r.Bytes(), off)
	// Still ordinary mappings of the one object.
	rw.Bytes()[size-1] = 0x5a
	if ro.Bytes()[size-1] != 0x5a {
		t.Errorf("a write through the read-write mapping is not seen through the read-only one")
	}
}
