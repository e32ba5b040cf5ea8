package handoff

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func offer(t *testing.T, o Offer) []byte {
	t.Helper()
	b, err := AppendOffer(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOfferRoundTrip(t *testing.T) {
	o := Offer{PID: 4242, Entries: []Entry{{Handle: 0x1a4, Size: 4096}, {Handle: 0xfffffffc, Size: 1 << 40}}}
	b := offer(t, o)
	if len(b) != offerHead+2*entrySize {
		t.Fatalf("frame of %d bytes", len(b))
	}
	r := bytes.NewReader(append(b, "next"...))
	got, err := ReadOffer(r, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got.PID != o.PID || len(got.Entries) != 2 || got.Entries[0] != o.Entries[0] || got.Entries[1] != o.Entries[1] {
		t.Errorf("read %+v, wrote %+v", got, o)
	}
	if r.Len() != 4 {
		t.Errorf("ReadOffer read %d bytes past the frame", 4-r.Len())
	}
	if _, err := ReadOffer(bytes.NewReader(nil), 64); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestOfferRejects(t *testing.T) {
	good := offer(t, Offer{PID: 7, Entries: []Entry{{Handle: 8, Size: 100}, {Handle: 12, Size: 200}}})
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name  string
		frame []byte
		limit int
		want  string
		is    error
	}{
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), 64, "not a shm hand-off", ErrFrame},
		{"version", edit(func(b []byte) []byte { b[4] = 9; return b }), 64, "version 9", ErrFrame},
		{"zero count", edit(func(b []byte) []byte { b[5] = 0; return b[:offerHead] }), 64, "offer of 0 objects", ErrFrame},
		{"over the limit", good, 1, "offer of 2 objects; 1 to 1", ErrFrame},
		{"reserved", edit(func(b []byte) []byte { b[7] = 1; return b }), 64, "reserved", ErrFrame},
		{"pid 0", edit(func(b []byte) []byte { b[8], b[9], b[10], b[11] = 0, 0, 0, 0; return b }), 64, "process id 0", ErrFrame},
		{"handle 0", edit(func(b []byte) []byte { clear(b[offerHead : offerHead+8]); return b }), 64, "handle value 0x0", ErrFrame},
		{"pseudo-handle", edit(func(b []byte) []byte {
			for i := range 8 {
				b[offerHead+entrySize+i] = 0xff
			}
			return b
		}), 64, "object 2 of 2: handle value 0xffffffffffffffff", ErrFrame},
		{"size 0", edit(func(b []byte) []byte { clear(b[offerHead+8 : offerHead+16]); return b }), 64, "size 0", ErrFrame},
		{"negative size", edit(func(b []byte) []byte { b[offerHead+15] = 0x80; return b }), 64, "object 1 of 2: size -", ErrFrame},
		{"header cut", good[:7], 64, "7 of its 12 header bytes", io.ErrUnexpectedEOF},
		{"entries cut", good[:offerHead+20], 64, "20 of the 32 bytes of its 2 objects", io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		_, err := ReadOffer(bytes.NewReader(c.frame), c.limit)
		if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error wrapping %v containing %q", c.name, err, c.is, c.want)
		}
	}
	if _, err := AppendOffer(nil, Offer{PID: 1}); !errors.Is(err, ErrFrame) {
		t.Errorf("AppendOffer of no objects: %v", err)
	}
}

func TestReply(t *testing.T) {
	for _, reason := range []string{"", "not a section", strings.Repeat("é", MaxReason)} {
		b := AppendReply(nil, reason)
		got, err := ReadReply(bytes.NewReader(b))
		want := reason
		if len(want) > MaxReason {
			want = want[:MaxReason]
		}
		if err != nil || got != want {
			t.Errorf("reply %.20q: read %.20q, %v", reason, got, err)
		}
	}
	ok := AppendReply(nil, "no")
	for _, c := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"empty", nil, "without replying"},
		{"cut header", ok[:3], "3 of its 8 header bytes"},
		{"cut reason", ok[:9], "1 of its 2-byte reason"},
		{"magic", append([]byte("SHMo"), ok[4:]...), "reply starts"},
		{"version", append(bytes.Clone(ok[:4]), 2, 0, 2, 0, 'n', 'o'), "version 2"},
		{"reserved", append(bytes.Clone(ok[:4]), 1, 1, 2, 0, 'n', 'o'), "reserved"},
		{"long", append(bytes.Clone(ok[:4]), 1, 0, 0xff, 0xff), "65535-byte reason"},
		{"utf-8", append(bytes.Clone(ok[:4]), 1, 0, 1, 0, 0xff), "not UTF-8"},
	} {
		if _, err := ReadReply(bytes.NewReader(c.frame)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error containing %q", c.name, err, c.want)
		}
	}
}

// FuzzReadOffer: no input panics the parser or makes it read past the
// frame, and whatever it accepts writes back as the same bytes.
func FuzzReadOffer(f *testing.F) {
	good, _ := AppendOffer(nil, Offer{PID: 9, Entries: []Entry{{Handle: 4, Size: 4096}}})
	f.Add(good, 64)
	f.Add(good[:5], 64)
	f.Add(append(bytes.Clone(good), good...), 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		r := bytes.NewReader(data)
		o, err := ReadOffer(r, limit)
		if err != nil {
			if err != io.EOF && !errors.Is(err, ErrFrame) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		used := len(data) - r.Len()
		if n := len(o.Entries); n == 0 || n > 255 || n > max(limit, 1) {
			t.Fatalf("accepted %d objects with limit %d", n, limit)
		}
		b, err := AppendOffer(nil, o)
		if err != nil {
			t.Fatalf("accepted %+v but cannot write it: %v", o, err)
		}
		if !bytes.Equal(b, data[:used]) {
			t.Fatalf("read %x as %+v, which writes as %x", data[:used], o, b)
		}
	})
}

// FuzzReadReply: no input panics the reply parser, and an accepted
// reason writes back as the same bytes.
func FuzzReadReply(f *testing.F) {
	f.Add(AppendReply(nil, ""))
	f.Add(AppendReply(nil, "refused"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		reason, err := ReadReply(r)
		if err != nil {
			return
		}
		used := len(data) - r.Len()
		if b := AppendReply(nil, reason); !bytes.Equal(b, data[:used]) {
			t.Fatalf("read %x as %q, which writes as %x", data[:used], reason, b)
		}
	})
}
