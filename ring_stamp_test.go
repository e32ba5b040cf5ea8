package shm

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
)

// TestRingStaleHeaders: before a sender writes a record, the receiver
// finds at its position whatever an earlier lap left, since nothing is
// cleared. Here every 16-byte unit of the room ahead holds a committed
// header word with a stamp that names another position (a lap back, a
// lap ahead), the right position under another key, or zero: the
// receiver must take none of them for a message. Messages then sent over
// them, for two laps, arrive as sent, and nothing after them.
func TestRingStaleHeaders(t *testing.T) {
	r := anonRing(t, RingSize(24, 16))
	ctx := context.Background()
	if _, ok, err := r.TryReceive(nil); ok || err != nil {
		t.Fatalf("receive from an empty ring: ok %v, %v", ok, err)
	}
	stale := map[string]func(pos uint64) uint64{
		"a lap back":  func(pos uint64) uint64 { return r.stampOf(pos - r.cap) },
		"a lap ahead": func(pos uint64) uint64 { return r.stampOf(pos + r.cap) },
		"another key": func(pos uint64) uint64 { return pos ^ r.key ^ 2 },
		"zero":        func(uint64) uint64 { return 0 },
	}
	sent := 0
	for name, stamp := range stale {
		v, err := r.enter("test")
		if err != nil {
			t.Fatal(err)
		}
		h := v.head
		for pos := h; pos < h+r.cap; pos += recAlign {
			*v.hdr(pos) = recHeader(8, r.token, recCommitted)
			*v.stamp(pos) = stamp(pos)
		}
		v.leave()
		if msg, ok, err := r.TryReceive(nil); ok || err != nil {
			t.Fatalf("%s: stale headers ahead: received %q, ok %v, %v", name, msg, ok, err)
		}
		for range 2 * r.cap / recordSize(24) {
			want := fmt.Appendf(nil, "message %d", sent)
			sent++
			if err := r.Send(ctx, want); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := r.Receive(ctx, nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: received %q, %v; want %q", name, got, err, want)
			}
			if msg, ok, err := r.TryReceive(nil); ok || err != nil {
				t.Fatalf("%s: after %q: received %q, ok %v, %v", name, want, msg, ok, err)
			}
		}
	}
}

// TestRingClearStamps: the receiver's retire clears the stamp of every
// record it retires, and nothing else. The ring is large enough that
// the messages are retired in one batch, at the call after the last.
func TestRingClearStamps(t *testing.T) {
	r := anonRing(t, RingSize(200, 64))
	var pos []uint64
	p := uint64(0)
	for _, size := range []int{0, 5, 64, 200, 17} {
		if ok, err := r.TrySend(make([]byte, size)); !ok || err != nil {
			t.Fatalf("send %d bytes: ok %v, %v", size, ok, err)
		}
		pos = append(pos, p)
		p += recordSize(uint64(size))
	}
	for range pos {
		if _, ok, err := r.TryReceive(nil); !ok || err != nil {
			t.Fatalf("receive: ok %v, %v", ok, err)
		}
	}
	v, err := r.enter("test")
	if err != nil {
		t.Fatal(err)
	}
	defer v.leave()
	for _, q := range pos {
		if !v.written(q) {
			t.Fatalf("the stamp at %d is gone before the retire", q)
		}
	}
	before := bytes.Clone(v.data())
	// The last message was the last in the ring: the next call retires.
	if _, ok, err := r.TryReceive(nil); ok || err != nil {
		t.Fatalf("receive from the drained ring: ok %v, %v", ok, err)
	}
	if h := atomic.LoadUint64(v.u64(ringOffHead)); h != p {
		t.Fatalf("head %d after the retire, want %d", h, p)
	}
	want := before
	for _, q := range pos {
		binary.NativeEndian.PutUint64(want[q+8:], 0)
	}
	if !bytes.Equal(v.data(), want) {
		t.Fatal("the retire changed other bytes than the retired records' stamps, or missed one")
	}
}

// TestRingClearStampsStops: the walk stops at a record whose stamp does
// not match and at a size that runs past the range, and writes nothing
// outside the range.
func TestRingClearStampsStops(t *testing.T) {
	r := anonRing(t, RingSize(64, 8))
	v, err := r.enter("test")
	if err != nil {
		t.Fatal(err)
	}
	defer v.leave()
	put := func(pos, w uint64) {
		*v.hdr(pos) = w
		*v.stamp(pos) = r.stampOf(pos)
	}
	for _, c := range []struct {
		name    string
		setup   func()
		cleared []uint64 // positions whose stamps are cleared
	}{
		{"unwritten second record", func() {
			put(0, recHeader(8, r.token, recCommitted))
			*v.stamp(32) = 12345 // not 32's stamp
		}, []uint64{0}},
		{"size past the range", func() {
			put(0, recHeader(8, r.token, recCommitted))
			put(32, recHeader(4096, r.token, recCommitted))
		}, []uint64{0}},
		{"zero-size padding", func() {
			put(0, recHeader(0, r.token, recCommitted|recPadding))
		}, nil},
	} {
		clear(v.data())
		c.setup()
		want := bytes.Clone(v.data())
		for _, q := range c.cleared {
			binary.NativeEndian.PutUint64(want[q+8:], 0)
		}
		v.clearStamps(0, 96)
		if !bytes.Equal(v.data(), want) {
			t.Errorf("%s: the walk cleared other stamps than %v", c.name, c.cleared)
		}
	}
}
