package shm

import (
	"bytes"
	"context"
	"fmt"
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
	n := RingSize(24, 16)
	m := anonMapping(t, n)
	r, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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
