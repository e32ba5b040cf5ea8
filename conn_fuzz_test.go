package shm

import (
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzConnHandshake feeds arbitrary bytes to the handshake's parsers: a
// header and an accept's layout. Nothing may panic, and a layout that
// passes the check lies inside the object with rings that do not overlap.
func FuzzConnHandshake(f *testing.F) {
	f.Add(encodeHello(0, 0), int64(0))
	f.Add(newLayout(1<<20, 1<<20).encode(), int64(newLayout(1<<20, 1<<20).size))
	f.Add(encodeRefuse("no"), int64(0))
	f.Add(append(putHeader(nil, kindAccept, 0), make([]byte, 40)...), int64(4096))
	f.Fuzz(func(t *testing.T, b []byte, objSize int64) {
		if len(b) < hsHeaderLen {
			parseHeader(b)
			return
		}
		kind, n, err := parseHeader(b[:hsHeaderLen])
		if err == nil && (kind < kindHello || kind > kindAck || n > maxRefusal) {
			t.Fatalf("accepted kind %d, text length %d", kind, n)
		}
		refusalText(b[hsHeaderLen:])
		if len(b) < hsHeaderLen+acceptBody {
			return
		}
		l := decodeLayout(b[hsHeaderLen:])
		if l.check(objSize, DefaultMaxRingSize) != nil {
			return
		}
		for _, r := range [][2]uint64{{l.c2sOff, l.c2sLen}, {l.s2cOff, l.s2cLen}} {
			if r[0]+r[1] > uint64(objSize) || r[0]+r[1] < r[0] {
				t.Fatalf("ring %v outside a %d-byte object passed", r, objSize)
			}
		}
		if l.c2sOff < l.s2cOff+l.s2cLen && l.s2cOff < l.c2sOff+l.c2sLen {
			t.Fatalf("overlapping rings passed: %+v", l)
		}
	})
}

func TestHelloSizes(t *testing.T) {
	cfg := &ListenConfig{MaxRing: 1 << 20, SendRing: 64 << 10}
	for _, tc := range []struct {
		c2s, s2c     uint64
		wantC, wantS int
		ok           bool
	}{
		{0, 0, DefaultRingSize, 64 << 10, true},
		{32 << 10, 0, 32 << 10, 64 << 10, true},
		{1 << 21, 0, 0, 0, false},
		{100, 0, 0, 0, false},
		{^uint64(0), 0, 0, 0, false},
		{MinRingSize + 1, 0, MinRingSize + 8, 64 << 10, true},
	} {
		c, s, err := cfg.ringSizes(tc.c2s, tc.s2c)
		if (err == nil) != tc.ok || tc.ok && (c != tc.wantC || s != tc.wantS) {
			t.Errorf("ringSizes(%d, %d) = %d, %d, %v", tc.c2s, tc.s2c, c, s, err)
		}
	}
	// MaxRing bounds what dialers ask for, not the listener's own sizes.
	small := &ListenConfig{MaxRing: 256 << 10}
	if c, s, err := small.ringSizes(0, 0); err != nil || c != DefaultRingSize || s != DefaultRingSize {
		t.Errorf("MaxRing 256 KiB, defaults: ringSizes(0, 0) = %d, %d, %v; want the 1 MiB defaults", c, s, err)
	}
	if _, _, err := small.ringSizes(512<<10, 0); err == nil || !strings.Contains(err.Error(), "that the dialer asked for") {
		t.Errorf("MaxRing 256 KiB, a dialer asking 512 KiB: %v", err)
	}
	b := encodeHello(5, 7)
	if binary.LittleEndian.Uint64(b[16:]) != 5 || binary.LittleEndian.Uint64(b[24:]) != 7 {
		t.Errorf("hello %x", b)
	}
}
