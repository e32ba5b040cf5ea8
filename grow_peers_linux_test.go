package shm

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// These tests replay on Linux what two processes growing one object at the
// same time do on the systems whose grow writes zeros (OpenBSD, NetBSD,
// DragonFly, illumos, Solaris: reserve_fileobj.go) or is a bare ftruncate
// (FreeBSD, darwin, and Linux's unlimited tmpfs): A and B each hold their
// own descriptor of the object, as two processes that opened its name do.

// peerFiles returns two descriptors of one new file of size bytes in
// /dev/shm, the first as A's and the second as B's; both are closed and
// the file removed at the end of the test.
func peerFiles(t *testing.T, size int64) (a, b int) {
	t.Helper()
	f, err := os.CreateTemp("/dev/shm", "shmtest-grow-")
	if err != nil {
		t.Skipf("no /dev/shm to grow files in: %v", err)
	}
	t.Cleanup(func() { f.Close(); os.Remove(f.Name()) })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	b, err = unix.Open(f.Name(), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(b) })
	return int(f.Fd()), b
}

// peerMap maps size bytes of fd and writes want at each offset of marks,
// as B would after its grow.
func peerMap(t *testing.T, fd int, size int, marks map[int]byte) []byte {
	t.Helper()
	m, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	for off, v := range marks {
		m[off] = v
	}
	return m
}

// checkMarks reads each mark of B's mapping without risking SIGBUS.
func checkMarks(t *testing.T, m []byte, marks map[int]byte) {
	t.Helper()
	for off, want := range marks {
		var got [1]byte
		if _, err := guardedCopy(got[:], m[off:off+1]); err != nil {
			t.Errorf("B's byte at %d: %v (the object was cut under B's mapping)", off, err)
			continue
		}
		if got[0] != want {
			t.Errorf("B's byte at %d is %#x, want %#x: a grow wrote over bytes already in the object", off, got[0], want)
		}
	}
}

func sizeOf(t *testing.T, fd int) int64 {
	t.Helper()
	n, err := fileSize(fd)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// withFileSizeLimit runs f with RLIMIT_FSIZE at limit bytes, so that a
// write past it fails (EFBIG; Go ignores SIGXFSZ) as a full filesystem's
// would.
func withFileSizeLimit(t *testing.T, limit uint64, f func()) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = limit
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	defer func() {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restoring RLIMIT_FSIZE: %v", err)
		}
	}()
	f()
}

// TestGrowByWritingKeepsPeerBytes: A set out to grow a 4 KiB object; B
// grew it to 12 KiB first and wrote in it. A's grow to 16 KiB writes only
// past B's end.
func TestGrowByWritingKeepsPeerBytes(t *testing.T) {
	a, b := peerFiles(t, 4096)
	if err := unix.Ftruncate(b, 12288); err != nil {
		t.Fatal(err)
	}
	marks := map[int]byte{5000: 0xab, 12000: 0xcd}
	m := peerMap(t, b, 12288, marks)
	if err := growByWriting(a, 16384); err != nil {
		t.Fatal(err)
	}
	checkMarks(t, m, marks)
	if n := sizeOf(t, a); n != 16384 {
		t.Errorf("size after the grow: %d, want 16384", n)
	}
	// A grow to less than B's end is done already, and writes nothing.
	if err := growByWriting(a, 8192); err != nil {
		t.Fatal(err)
	}
	checkMarks(t, m, marks)
	if n := sizeOf(t, a); n != 16384 {
		t.Errorf("size after a grow to 8192 of a 16384-byte object: %d; a grow must not shrink", n)
	}
}

// TestGrowByWritingFailureSparesPeer: A's grow fails (the filesystem is
// full: here, a file size limit) after B grew the object past where A
// started. A must not cut the object back under B's mapping.
func TestGrowByWritingFailureSparesPeer(t *testing.T) {
	a, b := peerFiles(t, 4096)
	if err := unix.Ftruncate(b, 16384); err != nil {
		t.Fatal(err)
	}
	marks := map[int]byte{12000: 0xcd}
	m := peerMap(t, b, 16384, marks)
	var err error
	withFileSizeLimit(t, 8192, func() { err = growByWriting(a, 32768) })
	if err == nil {
		t.Fatal("a grow past the file size limit succeeded")
	}
	t.Logf("the grow failed as on a full filesystem: %v", err)
	if n := sizeOf(t, a); n != 16384 {
		t.Errorf("size after A's failed grow: %d, want B's 16384", n)
	}
	checkMarks(t, m, marks)
}

// TestGrowByWritingFailureCutsOwnBytes: a grow that fails part way, with
// no other grower, leaves the size as it was.
func TestGrowByWritingFailureCutsOwnBytes(t *testing.T) {
	a, _ := peerFiles(t, 4096)
	var err error
	withFileSizeLimit(t, 3*65536, func() { err = growByWriting(a, 8*65536) })
	if err == nil {
		t.Fatal("a grow past the file size limit succeeded")
	}
	if n := sizeOf(t, a); n != 4096 {
		t.Errorf("size after a failed grow: %d, want 4096 as before", n)
	}
}

// TestZeroGrowthCut: what a failed grow may cut, for each history of its
// writes and size it finds.
func TestZeroGrowthCut(t *testing.T) {
	type write struct{ off, k int64 }
	for _, c := range []struct {
		name   string
		writes []write
		size   int64 // when the grow failed
		cut    int64
		ok     bool
	}{
		{"nothing written", nil, 4096, 0, false},
		{"a write of none", []write{{4096, 0}}, 4096, 0, false},
		{"own writes, end unchanged", []write{{4096, 65536}, {69632, 100}}, 69732, 4096, true},
		{"own writes, grown since", []write{{4096, 65536}}, 131072, 0, false},
		{"own writes, cut since", []write{{4096, 65536}}, 4096, 0, false},
		{"another grower in between", []write{{4096, 65536}, {139264, 100}}, 139364, 0, false},
		{"another grower before the first", []write{{65536, 100}}, 65636, 65536, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := zeroGrowth{start: -1}
			for _, w := range c.writes {
				g.wrote(w.off, w.k)
			}
			cut, ok := g.cut(c.size)
			if cut != c.cut || ok != c.ok {
				t.Errorf("cut(%d) = %d, %v; want %d, %v", c.size, cut, ok, c.cut, c.ok)
			}
		})
	}
}

// TestExtendToNeverShrinks: a grow by ftruncate whose target is below the
// size another process set meanwhile leaves the object as it is.
func TestExtendToNeverShrinks(t *testing.T) {
	a, b := peerFiles(t, 4096)
	if err := unix.Ftruncate(b, 16384); err != nil {
		t.Fatal(err)
	}
	marks := map[int]byte{12000: 0xcd}
	m := peerMap(t, b, 16384, marks)
	if err := extendTo(a, 8192); err != nil {
		t.Fatal(err)
	}
	if n := sizeOf(t, a); n != 16384 {
		t.Errorf("size after extendTo(8192) of a 16384-byte object: %d", n)
	}
	checkMarks(t, m, marks)
	if err := extendTo(a, 20000); err != nil {
		t.Fatal(err)
	}
	if n := sizeOf(t, a); n != 20000 {
		t.Errorf("size after extendTo(20000): %d", n)
	}
}
