//go:build unix

package shm_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sync"
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

func TestMapErrors(t *testing.T) {
	o, err := shm.CreateAnon(8192)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		off, length int64
	}{
		{"negative offset", -1, 10},
		{"zero length", 0, 0},
		{"negative length", 0, -5},
		{"past the end", 8192, 1},
		{"overlapping the end", 4096, 4097},
		{"overflowing", 1, 1<<63 - 1},
	} {
		if m, err := o.MapRange(tc.off, tc.length, shm.ReadWrite); err == nil {
			m.Close()
			t.Errorf("%s: MapRange(%d, %d) succeeded", tc.name, tc.off, tc.length)
		} else {
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Errorf("%s: error %v is not a *fs.PathError", tc.name, err)
			}
		}
	}
	if _, err := o.MapRange(0, 10, shm.Access(7)); err == nil {
		t.Error("MapRange with an invalid Access succeeded")
	}
	// An unaligned offset works.
	m, err := o.MapRange(100, 50, shm.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "xyz")
	m.Close()
	m, err = o.Map()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Bytes()[100:103]); got != "xyz" {
		t.Errorf("unaligned mapping wrote at the wrong place: %q", got)
	}
	m.Close()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Map(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Map after Close: %v, want fs.ErrClosed", err)
	}
	if _, err := o.Size(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Size after Close: %v, want fs.ErrClosed", err)
	}
	if err := o.Truncate(1); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Truncate after Close: %v, want fs.ErrClosed", err)
	}
}

func TestMappingReadWriteAt(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var _ io.ReaderAt = m
	var _ io.WriterAt = m
	if n, err := m.WriteAt([]byte("abc"), 4093); n != 3 || err != nil {
		t.Fatalf("WriteAt at the end: %d, %v", n, err)
	}
	if _, err := m.WriteAt([]byte("abcd"), 4093); err == nil {
		t.Error("WriteAt past the end succeeded")
	}
	if _, err := m.WriteAt([]byte("a"), -1); err == nil {
		t.Error("WriteAt at a negative offset succeeded")
	}
	p := make([]byte, 5)
	n, err := m.ReadAt(p, 4093)
	if n != 3 || err != io.EOF || string(p[:3]) != "abc" {
		t.Fatalf("ReadAt at the end: %d, %v, %q", n, err, p[:n])
	}
	if _, err := m.ReadAt(p, 4096); err != io.EOF {
		t.Errorf("ReadAt past the end: %v, want io.EOF", err)
	}
	ro, err := o.MapReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.WriteAt([]byte("x"), 0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteAt on a read-only mapping: %v, want fs.ErrPermission", err)
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

func TestCloseIdempotentConcurrent(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := o.Close(); err != nil {
				t.Error(err)
			}
			if err := m.Close(); err != nil {
				t.Error(err)
			}
			_, _ = m.ReadAt(make([]byte, 1), 0)
		}()
	}
	wg.Wait()
	if m.Bytes() != nil || m.Len() != 0 {
		t.Error("closed mapping still exposes memory")
	}
	if _, err := m.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want fs.ErrClosed", err)
	}
	var nilObj *shm.Object
	if err := nilObj.Close(); err != nil {
		t.Errorf("Close on a nil *Object: %v", err)
	}
}

// TestMappingOutlivesObject: closing the object leaves its mappings valid.
func TestMappingOutlivesObject(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	copy(m.Bytes(), "still here")
	if string(m.Bytes()[:10]) != "still here" {
		t.Error("mapping unusable after the object closed")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
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
