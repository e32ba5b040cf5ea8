//go:build unix

package shm_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"runtime"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

func TestCreateAnon(t *testing.T) {
	const size = 1 << 20
	o, err := shm.CreateAnon(size)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	t.Logf("strategy %s", o.Strategy())
	if o.Name() != "" {
		t.Errorf("Name() = %q, want empty for an anonymous object", o.Name())
	}
	if o.Strategy() == "" {
		t.Error("Strategy() is empty")
	}
	if got, err := o.Size(); err != nil || got < size {
		t.Fatalf("Size() = %d, %v; want %d", got, err, size)
	}
	flags, err := unix.FcntlInt(uintptr(shm.RawFD(o)), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Error("descriptor is not close-on-exec")
	}
	var st unix.Stat_t
	if err := unix.Fstat(shm.RawFD(o), &st); err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode & 0o777; perm&0o077 != 0 {
		t.Errorf("mode %#o gives access to group or others", perm)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Len() != size {
		t.Fatalf("Len() = %d, want %d", m.Len(), size)
	}
	b := m.Bytes()
	if !bytes.Equal(b[:16], make([]byte, 16)) {
		t.Error("new object is not zeroed")
	}
	copy(b[size-5:], "hello")
	// A second, independent mapping sees the same memory.
	m2, err := o.MapRange(size-4096, 4096, shm.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if got := string(m2.Bytes()[4096-5:]); got != "hello" {
		t.Errorf("second mapping reads %q, want hello", got)
	}
}

func TestCreateAnonZeroThenTruncate(t *testing.T) {
	o, err := shm.CreateAnon(0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.Map(); err == nil {
		t.Fatal("mapping an empty object succeeded")
	}
	if err := o.Truncate(12345); err != nil {
		if runtime.GOOS == "darwin" {
			t.Skipf("darwin: %v", err)
		}
		t.Fatal(err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Len() != 12345 {
		t.Errorf("Len() = %d, want 12345", m.Len())
	}
}

func TestCreateAnonBadSize(t *testing.T) {
	for _, size := range []int64{-1, -1 << 62, math.MaxInt64, math.MaxInt64 - 1} {
		if o, err := shm.CreateAnon(size); err == nil {
			o.Close()
			t.Errorf("CreateAnon(%d) succeeded", size)
		}
	}
	// A huge size: the kernel may accept it as a sparse object (tmpfs
	// does) or refuse it; mapping it whole fails cleanly; nothing leaks.
	before := countFDs()
	if o, err := shm.CreateAnon(1 << 62); err == nil {
		if m, err := o.Map(); err == nil {
			m.Close()
			t.Errorf("mapping a 4 EiB object succeeded")
		} else {
			t.Logf("Map of a 4 EiB object: %v", err)
		}
		o.Close()
	} else {
		t.Logf("CreateAnon(1<<62): %v", err)
	}
	if after := countFDs(); after != before {
		t.Errorf("descriptors: %d before, %d after", before, after)
	}
}

// TestMappingFault shrinks an object under a mapping, as a hostile or
// buggy peer would: ReadAt and WriteAt report ErrFault and the process
// lives on.
func TestMappingFault(t *testing.T) {
	page := int64(os.Getpagesize())
	o, err := shm.CreateAnon(4 * page)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := o.Truncate(page); err != nil {
		if runtime.GOOS == "darwin" {
			t.Skipf("darwin allows one size per object: %v", err)
		}
		t.Fatal(err)
	}
	p := make([]byte, 10)
	if _, err := m.ReadAt(p, 0); err != nil {
		t.Fatalf("ReadAt within the remaining page: %v", err)
	}
	if _, err := m.ReadAt(p, 2*page); !errors.Is(err, shm.ErrFault) {
		t.Errorf("ReadAt past the shrunk end: %v, want ErrFault", err)
	}
	if _, err := m.WriteAt(p, 3*page); !errors.Is(err, shm.ErrFault) {
		t.Errorf("WriteAt past the shrunk end: %v, want ErrFault", err)
	}
}

func TestNoFDLeak(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	before := countFDs()
	if before < 0 {
		t.Skip("cannot count descriptors on this system: no /proc/self/fd or /dev/fd")
	}
	for i := range n {
		o, err := shm.CreateAnon(4096)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		m, err := o.Map()
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		m.Bytes()[0] = byte(i)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := countFDs(); after != before {
		t.Errorf("descriptors: %d before %d cycles, %d after", before, n, after)
	}
}

func TestNewObjectRejects(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := shm.NewObject(r); !errors.Is(err, shm.ErrNotMemory) {
		t.Errorf("NewObject(pipe): %v, want ErrNotMemory", err)
	}
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := shm.NewObject(d); !errors.Is(err, shm.ErrNotMemory) {
		t.Errorf("NewObject(directory): %v, want ErrNotMemory", err)
	}
	if _, err := shm.NewObject(nil); err == nil {
		t.Error("NewObject(nil) succeeded")
	}
}

func TestNewObjectAdopts(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	fd, err := unix.Dup(shm.RawFD(o))
	if err != nil {
		t.Fatal(err)
	}
	a, err := shm.NewObject(os.NewFile(uintptr(fd), "dup"))
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer a.Close()
	if a.Strategy() != "adopted" {
		t.Errorf("Strategy() = %q, want adopted", a.Strategy())
	}
	if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Error("adopted descriptor is not close-on-exec")
	}
}
