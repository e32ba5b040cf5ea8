package shm

import "testing"

func TestSizeAtCreate(t *testing.T) {
	for _, c := range []struct {
		goos string
		size int64
		want bool
	}{
		{"darwin", 0, false}, // else the object could never be sized
		{"darwin", 1, true},
		{"freebsd", 0, true},
		{"linux", 0, true},
		{"freebsd", 4096, true},
	} {
		if got := sizeAtCreate(c.goos, c.size); got != c.want {
			t.Errorf("sizeAtCreate(%q, %d) = %v, want %v", c.goos, c.size, got, c.want)
		}
	}
}
