//go:build unix

package shm_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/shmkit/shm"
)

// TestRingStatsReadOnly reads a ring's state through a read-only mapping
// of an object opened read-only, with a sender process alive (holding a
// reservation) and a receiver in this process, then after the sender's
// death and the receiver's close: the figures follow, and the object's
// bytes are the same before and after each read.
func TestRingStatsReadOnly(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, ringProcObj, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rx, err := m.Ring(0, ringProcN)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx := startRingChild(t, o, "ring-send", "3", "hang", "5")
	if l := tx.line(t); l != "r" {
		t.Fatalf("sender child said %q", l)
	}
	for range 2 {
		if _, err := rx.Receive(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}

	ro, err := shm.OpenReadOnly(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rm, err := ro.MapRange(0, ringProcN, shm.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	stat := func() shm.RingStats {
		t.Helper()
		before := bytes.Clone(m.Bytes())
		fds := countFDs()
		st, err := rm.RingStats(0, ringProcN)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, m.Bytes()) {
			t.Fatal("RingStats changed the object's bytes")
		}
		if n := countFDs(); n != fds {
			t.Errorf("%d descriptors before RingStats, %d after", fds, n)
		}
		return st
	}
	want, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	st := stat()
	if st != want || st.Senders != 1 || !st.Receiver || st.Used == 0 || st.Capacity != 16384 {
		t.Fatalf("read-only stats %+v; the receiver's %+v; want one live sender, a live receiver, bytes used", st, want)
	}
	tx.kill(t)
	if st := stat(); st.Senders != 0 || !st.Receiver {
		t.Fatalf("after the sender's death: %+v, want no live sender", st)
	}
	rx.Close()
	if st := stat(); st.Receiver || st.Used != want.Used {
		t.Fatalf("after the receiver's close: %+v, want no receiver and %d bytes used", st, want.Used)
	}

	// Another size, a range that is not a ring, and a closed mapping.
	if _, err := rm.RingStats(0, ringProcN-4096); !errors.Is(err, shm.ErrRingMismatch) {
		t.Errorf("RingStats with another size: %v, want ErrRingMismatch", err)
	}
	if _, err := rm.RingStats(4096, 8192); !errors.Is(err, shm.ErrRingCorrupt) {
		t.Errorf("RingStats of the data area: %v, want ErrRingCorrupt", err)
	}
	if _, err := rm.RingStats(4, 8192); err == nil {
		t.Error("RingStats at an unaligned offset succeeded")
	}
	if _, err := rm.RingStats(0, ringProcN+8); err == nil {
		t.Error("RingStats past the mapping succeeded")
	}
	rm.Close()
	if _, err := rm.RingStats(0, ringProcN); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("RingStats after Close: %v, want ErrClosed", err)
	}
}

// TestRingStatsZero: all zero bytes are an empty ring, and reading their
// state leaves them zero.
func TestRingStatsZero(t *testing.T) {
	n := shm.RingSize(100, 8)
	_, m := newAnonMapping(t, n)
	st, err := m.RingStats(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if st.Capacity == 0 || st.Used != 0 || st.Senders != 0 || st.Receiver {
		t.Fatalf("stats of zero bytes: %+v", st)
	}
	if !bytes.Equal(m.Bytes(), make([]byte, len(m.Bytes()))) {
		t.Fatal("RingStats wrote to zero bytes")
	}
}
