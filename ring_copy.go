package shm

// copyPiece is the largest piece copyCached hands to copy at once. Go's
// memmove on amd64 switches to non-temporal stores for moves of 1 MiB
// and more: they bypass the caches and send the bytes through memory. A
// message copied into a ring is read next by another CPU, and a message
// copied out of one by the caller, both from the caches if the bytes are
// still there; so the ring copies in pieces below that size. Measured
// on a 2-vCPU EPYC (BENCHMARKS.md §7, "Copying in pieces"): 1 MiB
// messages between two processes ran 1.1-1.4x faster.
const copyPiece = 256 << 10

// copyCached copies src into dst as copy does, in pieces of at most
// copyPiece bytes, and returns the number of bytes copied. It inlines,
// so that a small message costs what copy costs.
func copyCached(dst, src []byte) int {
	if len(src) <= copyPiece {
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
