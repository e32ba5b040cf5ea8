package shm

import (
	"bytes"
	"testing"
)

// TestCopyCached: every length around the piece size, with dst shorter,
// as long as, and longer than src, copies what copy copies.
func TestCopyCached(t *testing.T) {
	for _, n := range []int{0, 1, copyPiece - 1, copyPiece, copyPiece + 1, 3*copyPiece + 5, 1 << 20, 1<<20 + 3} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + i>>16)
		}
		for _, d := range []int{n - copyPiece/2 - 1, n, n + 9} {
			if d < 0 {
				continue
			}
			got, want := make([]byte, d), make([]byte, d)
			for i := range got {
				got[i], want[i] = 0xa5, 0xa5
			}
			if k, w := copyCached(got, src), copy(want, src); k != w || !bytes.Equal(got, want) {
				t.Fatalf("src %d bytes, dst %d: copied %d (want %d), equal %v", n, d, k, w, bytes.Equal(got, want))
			}
		}
	}
}
