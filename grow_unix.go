//go:build unix

package shm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// zeroChunk is what growByWriting writes at a time.
var zeroChunk [64 << 10]byte

// growByWriting grows fd's object to to bytes by writing zeros past its
// end, so that every new page is allocated now (the bytes past the end
// are not in any mapping yet).
//
// Other processes may grow the same object meanwhile, each through its
// own Truncate (the C idiom: every process that opens an object sizes it).
// Bytes below the end may already be in their mappings and hold their
// data, so each chunk is written at the end the object has just before
// it, never below, and the loop stops once the object holds to bytes,
// whoever wrote them. What is left is the instant between reading the end
// and writing there.
//
// If a write fails, the object is cut back to the end it had at the first
// write, but only when every byte past that point is this call's (no other
// grower wrote in between) and the end is still where this call left it:
// cutting bytes another grower added could take memory from under its
// mapping, so those stay, as allocated zeros.
func growByWriting(fd int, to int64) error {
	g := zeroGrowth{start: -1}
	for {
		size, err := fileSize(fd)
		if err != nil {
			g.undo(fd)
			return reserveErr(to, err)
		}
		if size >= to {
			return nil
		}
		n := min(to-size, int64(len(zeroChunk)))
		k, err := pwriteZeros(fd, n, size)
		g.wrote(size, int64(k))
		if err != nil {
			g.undo(fd)
			return reserveErr(to, err)
		}
	}
}

// A zeroGrowth follows the writes of one growByWriting, to tell what its
// undo may cut.
type zeroGrowth struct {
	start, end int64 // [start, end): where its writes began and ended; start < 0 before the first
	own        bool  // every byte of [start, end) is one of its writes
}

// wrote records a write of k bytes at off, which was the object's end.
func (g *zeroGrowth) wrote(off, k int64) {
	if k <= 0 {
		return
	}
	switch {
	case g.start < 0:
		g.start, g.own = off, true
	case off != g.end:
		g.own = false // another grower wrote between our writes
	}
	g.end = off + k
}

// cut reports the size undo may cut the object back to, given its size
// now: start, when the writes were all ours and nobody has grown it since.
func (g *zeroGrowth) cut(size int64) (int64, bool) {
	if g.start < 0 || !g.own || size != g.end {
		return 0, false
	}
	return g.start, true
}

// undo cuts off what the writes added, where cut allows it.
func (g *zeroGrowth) undo(fd int) {
	size, err := fileSize(fd)
	if err != nil {
		return
	}
	if to, ok := g.cut(size); ok {
		_ = ignoringEINTR(func() error { return unix.Ftruncate(fd, to) })
	}
}

// fileSize returns fd's size, as fstat reports it.
func fileSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return 0, os.NewSyscallError("fstat", err)
	}
	return st.Size, nil
}

// extendTo sets fd's size to to bytes with ftruncate, unless it already
// holds that many: a grow whose view of the size is out of date (another
// process grew the object meanwhile) must not shrink it.
func extendTo(fd int, to int64) error {
	size, err := fileSize(fd)
	if err != nil {
		return err
	}
	if size >= to {
		return nil
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, to) }); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	return nil
}

// pwriteZeros writes n zeros (n <= len(zeroChunk)) at off, and returns how
// many it wrote; none written is ENOSPC.
func pwriteZeros(fd int, n, off int64) (int, error) {
	var k int
	err := ignoringEINTR(func() error {
		var e error
		k, e = unix.Pwrite(fd, zeroChunk[:n], off)
		return e
	})
	if err != nil {
		return 0, os.NewSyscallError("pwrite", err)
	}
	if k == 0 {
		return 0, os.NewSyscallError("pwrite", unix.ENOSPC)
	}
	return k, nil
}

// setSize sets the size of fd's object to size, reserving the memory of a
// grown object before its size changes (see grow); a failed grow leaves
// the size as it was, unless another process grew the object meanwhile.
// A grow never shrinks: if another process has made the object size bytes
// or more by the time the grow looks again, it is done.
func setSize(fd int, size int64) error {
	cur, err := fileSize(fd)
	if err != nil {
		return err
	}
	if size > cur {
		return grow(fd, size)
	}
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	return nil
}

// reserveErr explains a failed reservation of size bytes.
func reserveErr(size int64, err error) error {
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.ENOMEM) {
		return fmt.Errorf("cannot reserve memory for %d bytes: the filesystem that holds shared memory (/dev/shm, /tmp, or the kernel's own) is full or at its memory limit: %w", size, err)
	}
	return fmt.Errorf("cannot reserve memory for %d bytes: %w", size, err)
}
