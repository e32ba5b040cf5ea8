//go:build unix || windows

package shm_test

import (
	"errors"
	"io"
	"io/fs"
	"sync"
	"testing"

	"github.com/shmkit/shm"
)

// The tests of objects and mappings that read the same on the Unix
// systems and on windows.

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
