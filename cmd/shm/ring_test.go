package main

import "testing"

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
