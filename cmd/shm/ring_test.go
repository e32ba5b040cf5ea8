//go:build !wasip1

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

func TestStrayByte(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want int
	}{
		{"zeros", make([]byte, 64), -1},
		{"ring header", append([]byte{1, 2, 3, 4, 5, 6, 7, 8}, make([]byte, 56)...), -1},
		{"data after a zero word", append(make([]byte, 40), 'x'), 40},
		{"data in the first word", append([]byte{0, 0, 0, 'x'}, make([]byte, 60)...), -1}, // Ring itself refuses it
		{"short", []byte{1}, -1},
	} {
		if got := strayByte(c.b); got != c.want {
			t.Errorf("%s: strayByte = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestOpenRingRefusesStrayBytes: send and recv never lay a ring over an
// object that holds other bytes behind a zero first word.
func TestOpenRingRefusesStrayBytes(t *testing.T) {
	name := fmt.Sprintf("/shmtest-%s-stray", runID)
	o, err := shm.Create(name, 8192, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Unlink(name)
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	m.Bytes()[40] = 'x'
	m.Close()
	size := &sizeFlag{n: defaultRingSize}
	foreign := false
	var stderr strings.Builder
	_, err = openRing(name, "send", &ringFlags{size: size, foreign: &foreign}, &env{stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "not a ring (a byte at offset 40 is not zero") {
		t.Fatalf("openRing on an object with a stray byte: %v; want a refusal naming offset 40", err)
	}
	// The object is left as it was.
	m, err = o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if b := m.Bytes(); b[0] != 0 || b[40] != 'x' {
		t.Errorf("openRing changed the object: first byte %#x, byte 40 %q", b[0], b[40])
	}
}
