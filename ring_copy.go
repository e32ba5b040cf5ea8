package shm

// Go's memmove on amd64 switches to non-temporal stores for moves of
// 1 MiB and more: they bypass the caches and send the bytes to memory. A
// message copied into a ring is read next by the receiver on another CPU,
// and one copied out of a ring by the caller, both from the caches if
// the bytes are still there. So the ring copies a message of up to
// copyPiecesMax bytes in pieces of at most copyPiece bytes, below that
// switch. A larger message no longer stays in the caches between its
// writer and its reader, and takes memmove's route.
//
// Measured between two processes on a 2-vCPU EPYC (BENCHMARKS.md §7,
// "Copying in pieces"): 1 MiB messages 1.1-1.4x faster, 4 MiB 1.1-1.2x;
// 16 MiB messages ran slower in pieces (7.7-9.9 against 10.4-16.1 GB/s).
const (
	copyPiece     = 256 << 10
	copyPiecesMax = 4 << 20
)

// copyCached copies src into dst as copy does, and returns the number of
// bytes copied; a message of more than copyPiece and at most
// copyPiecesMax bytes goes in pieces. It inlines, so that a small message
// costs what copy costs.
func copyCached(dst, src []byte) int {
	if len(src) <= copyPiece || len(src) > copyPiecesMax {
		return copy(dst, src)
	}
	return copyPieces(dst, src)
}

func copyPieces(dst, src []byte) int {
	n := min(len(dst), len(src))
	for i := 0; i < n; i += copyPiece {
		copy(dst[i:min(n, i+copyPiece)], src[i:n])
	}
	return n
}
