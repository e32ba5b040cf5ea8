package shm

import (
	"bytes"
	"testing"
)

// TestCopyCached: every length around the piece size and the largest
// message copied in pieces, with dst shorter than, as long as, and longer
// than src, copies what copy copies, through copyCached and through
// copyPieces itself.
func TestCopyCached(t *testing.T) {
	fns := map[string]func(dst, src []byte) int{"copyCached": copyCached, "copyPieces": copyPieces}
	for _, n := range []int{0, 1, copyPiece - 1, copyPiece, copyPiece + 1, 3*copyPiece + 5, 1 << 20, 1<<20 + 3, copyPiecesMax, copyPiecesMax + 8} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + i>>16)
		}
		for _, d := range []int{n - copyPiece/2 - 1, n, n + 9} {
			if d < 0 {
				continue
			}
			want := bytes.Repeat([]byte{0xa5}, d)
			w := copy(want, src)
			for name, fn := range fns {
				got := bytes.Repeat([]byte{0xa5}, d)
				if k := fn(got, src); k != w || !bytes.Equal(got, want) {
					t.Fatalf("%s: src %d bytes, dst %d: copied %d (want %d), equal %v", name, n, d, k, w, bytes.Equal(got, want))
				}
			}
		}
	}
}
