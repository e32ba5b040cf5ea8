package shm

import (
	"testing"
)

// prefetchRing makes a ring of RingSize(64, 64) bytes (8 KiB of data) in a
// fresh object and returns handles to it, closed at the end of the test.
func prefetchRing(t *testing.T, handles int) []*Ring {
	t.Helper()
	n := RingSize(64, 64)
	m := anonMapping(t, n)
	var rs []*Ring
	for range handles {
		r, err := m.Ring(0, n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rs = append(rs, r)
	}
	return rs
}

// anonRing returns a ring of n bytes at offset 0 of a fresh anonymous
// object; the handle, the mapping and the object are closed when the
// test ends.
func anonRing(t *testing.T, n int) *Ring {
	t.Helper()
	r, err := anonMapping(t, n).Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// anonMapping maps a fresh anonymous object of size bytes; both are
// closed when the test ends.
func anonMapping(t *testing.T, size int) *Mapping {
	t.Helper()
	o, err := CreateAnon(int64(size))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// recordPrefetches collects the positions senders prefetch until the end
// of the test.
func recordPrefetches(t *testing.T) *[]uint64 {
	var got []uint64
	ringPrefetchHook = func(p uint64) { got = append(got, p) }
	t.Cleanup(func() { ringPrefetchHook = nil })
	return &got
}

// TestRingPrefetchAlone: a sender that streams alone prefetches the line
// ringPrefetchAhead past each record, until that line could hold a
// record not yet consumed.
func TestRingPrefetchAlone(t *testing.T) {
	s := prefetchRing(t, 1)[0]
	got := recordPrefetches(t)
	msg := make([]byte, 64)
	var want []uint64
	end := uint64(0)
	for {
		ok, err := s.TrySend(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		end += recordSize(64)
		// Nothing is consumed: the head is 0.
		if p := end + ringPrefetchAhead; p+touchLine <= s.cap {
			want = append(want, p)
		}
	}
	if end < s.cap-recordSize(64) {
		t.Fatalf("the ring took %d bytes of %d", end, s.cap)
	}
	if len(want) == 0 || len(want) == int(end/recordSize(64)) {
		t.Fatalf("the test expects %d prefetches of %d sends: none, or one per send, tests nothing", len(want), end/recordSize(64))
	}
	if len(*got) != len(want) {
		t.Fatalf("%d prefetches, want %d: %v", len(*got), len(want), *got)
	}
	for i := range want {
		if (*got)[i] != want[i] {
			t.Fatalf("prefetch %d at %d, want %d", i, (*got)[i], want[i])
		}
	}
}

// TestRingPrefetchNotBetweenSenders: senders that take turns never
// prefetch: the line ahead is another sender's next claim.
func TestRingPrefetchNotBetweenSenders(t *testing.T) {
	rs := prefetchRing(t, 3)
	rx, a, b := rs[0], rs[1], rs[2]
	got := recordPrefetches(t)
	msg := make([]byte, 64)
	for range 20 {
		for _, s := range []*Ring{a, b} {
			if ok, err := s.TrySend(msg); !ok || err != nil {
				t.Fatalf("send: %v %v", ok, err)
			}
		}
		for range 2 {
			if _, ok, err := rx.TryReceive(nil); !ok || err != nil {
				t.Fatalf("receive: %v %v", ok, err)
			}
		}
	}
	// a's first record is at 0, where its last one "ended" (none): one
	// prefetch at most.
	if len(*got) > 1 {
		t.Fatalf("%d prefetches with two senders taking turns: %v", len(*got), *got)
	}
	// The same handle alone again prefetches from its second send on.
	for range 3 {
		if ok, err := a.TrySend(msg); !ok || err != nil {
			t.Fatalf("send: %v %v", ok, err)
		}
	}
	if n := len(*got); n < 2 {
		t.Fatalf("%d prefetches after a streamed alone again", n)
	}
}
