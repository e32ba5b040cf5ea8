package shm

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The connection handshake, over the Unix socket (ARCHITECTURE.md has the
// whole story). Every message starts with a 16-byte header:
//
//	0  "SHMCONN\x00"  magic
//	8  uint16         protocol version (connVersion)
//	10 uint16         kind: hello, accept, refuse, ack
//	12 uint32         length of a refusal's text (0 otherwise)
//
// all little-endian. The dialer sends hello (+16 bytes: the ring sizes it
// asks for, dialer-to-listener then listener-to-dialer, 0 for "yours").
// The listener answers refuse (+ text) or accept (+40 bytes: the object
// size and the offset and length of each ring), followed by the object
// itself as one [Send] message. The dialer checks the object and the
// layout and answers ack or refuse (+ text). Then the socket carries
// nothing more; it stays open as the liveness signal.

const (
	connMagic   = "SHMCONN\x00"
	connVersion = 1

	kindHello  = 1
	kindAccept = 2
	kindRefuse = 3
	kindAck    = 4

	hsHeaderLen = 16
	helloBody   = 16
	acceptBody  = 40
	maxRefusal  = 1024

	// ringAlign is where each ring starts in the object: a page, so the
	// two directions never share a cache line or a page.
	ringAlign = 4096
)

func putHeader(b []byte, kind uint16, textLen int) []byte {
	b = append(b, connMagic...)
	b = binary.LittleEndian.AppendUint16(b, connVersion)
	b = binary.LittleEndian.AppendUint16(b, kind)
	return binary.LittleEndian.AppendUint32(b, uint32(textLen))
}

// parseHeader checks a header's magic and version and returns its kind
// and text length; for a refusal, the text length is checked too.
func parseHeader(b []byte) (kind uint16, textLen int, err error) {
	if len(b) != hsHeaderLen || string(b[:8]) != connMagic {
		return 0, 0, fmt.Errorf("%w: the peer does not speak the shm connection protocol (got %q)", ErrHandshake, printable(b))
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != connVersion {
		return 0, 0, fmt.Errorf("%w: the peer speaks protocol version %d; this side speaks version %d", ErrHandshake, v, connVersion)
	}
	kind = binary.LittleEndian.Uint16(b[10:])
	n := binary.LittleEndian.Uint32(b[12:])
	if kind != kindRefuse && n != 0 || n > maxRefusal {
		return 0, 0, fmt.Errorf("%w: bad header (kind %d, text length %d)", ErrHandshake, kind, n)
	}
	if kind < kindHello || kind > kindAck {
		return 0, 0, fmt.Errorf("%w: unknown message kind %d", ErrHandshake, kind)
	}
	return kind, int(n), nil
}

// printable returns at most 32 bytes of b for an error message.
func printable(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

// refusalText cleans a peer's refusal text for an error message.
func refusalText(b []byte) string {
	s := strings.ToValidUTF8(string(b), string(utf8.RuneError))
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func encodeHello(send, recv int) []byte {
	b := putHeader(make([]byte, 0, hsHeaderLen+helloBody), kindHello, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(send))
	return binary.LittleEndian.AppendUint64(b, uint64(recv))
}

func encodeRefuse(reason string) []byte {
	if len(reason) > maxRefusal {
		reason = reason[:maxRefusal]
	}
	return append(putHeader(nil, kindRefuse, len(reason)), reason...)
}

// connLayout is where the two rings are in the object: c2s carries the
// dialer's writes, s2c the listener's.
type connLayout struct {
	size           uint64
	c2sOff, c2sLen uint64
	s2cOff, s2cLen uint64
}

func newLayout(c2s, s2c int) connLayout {
	l := connLayout{c2sOff: 0, c2sLen: uint64(c2s)}
	l.s2cOff = alignUp(uint64(c2s), ringAlign)
	l.s2cLen = uint64(s2c)
	l.size = alignUp(l.s2cOff+l.s2cLen, ringAlign)
	return l
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

func (l connLayout) encode() []byte {
	b := putHeader(make([]byte, 0, hsHeaderLen+acceptBody), kindAccept, 0)
	for _, v := range []uint64{l.size, l.c2sOff, l.c2sLen, l.s2cOff, l.s2cLen} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func decodeLayout(b []byte) connLayout {
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	return connLayout{size: u(0), c2sOff: u(1), c2sLen: u(2), s2cOff: u(3), s2cLen: u(4)}
}

// check validates a layout received from the listener against the
// object's real size and this side's limit on ring sizes.
func (l connLayout) check(objSize int64, maxRing int) error {
	if objSize < 0 || l.size != uint64(objSize) {
		return fmt.Errorf("%w: the listener announced a %d-byte object and sent one of %d bytes", ErrHandshake, l.size, objSize)
	}
	for _, r := range []struct {
		name     string
		off, len uint64
	}{{"dialer-to-listener", l.c2sOff, l.c2sLen}, {"listener-to-dialer", l.s2cOff, l.s2cLen}} {
		if limit := uint64(connRingBytes(maxRing)); r.len < MinRingSize || r.len > limit || r.len%8 != 0 {
			return fmt.Errorf("%w: the %s ring of %d bytes is outside [%d, %d] or not a multiple of 8", ErrHandshake, r.name, r.len, MinRingSize, limit)
		}
		if r.off%ringAlign != 0 || r.off > l.size || r.len > l.size-r.off {
			return fmt.Errorf("%w: the %s ring (%d bytes at %d) does not fit the %d-byte object page-aligned", ErrHandshake, r.name, r.len, r.off, l.size)
		}
	}
	if l.c2sOff < l.s2cOff+l.s2cLen && l.s2cOff < l.c2sOff+l.c2sLen {
		return fmt.Errorf("%w: the two rings overlap", ErrHandshake)
	}
	return nil
}

// ringSizes decides the sizes of a connection from a dialer's request
// (0: the listener's choice) and the listener's configuration.
func (cfg *ListenConfig) ringSizes(wantC2S, wantS2C uint64) (c2s, s2c int, err error) {
	pick := func(name string, want uint64, def int) (int, error) {
		if want == 0 {
			// The listener's own size, which Listen checked: MaxRing
			// bounds what dialers ask for, not this.
			return int(alignUp(uint64(def), 8)), nil
		}
		max := cfg.maxRing()
		if want < MinRingSize || want > uint64(max) {
			return 0, fmt.Errorf("%w: the %s ring of %d bytes that the dialer asked for is outside [%d, %d]", ErrHandshake, name, want, MinRingSize, max)
		}
		return int(alignUp(want, 8)), nil
	}
	if c2s, err = pick("dialer-to-listener", wantC2S, orDefault(cfg.ReceiveRing, DefaultRingSize)); err != nil {
		return 0, 0, err
	}
	if s2c, err = pick("listener-to-dialer", wantS2C, orDefault(cfg.SendRing, DefaultRingSize)); err != nil {
		return 0, 0, err
	}
	return c2s, s2c, nil
}

func (cfg *ListenConfig) maxRing() int { return orDefault(cfg.MaxRing, DefaultMaxRingSize) }

// check reports a configuration with which the listener could serve no
// dialer, or none that leaves the sizes to it.
func (cfg *ListenConfig) check() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"SendRing", cfg.SendRing}, {"ReceiveRing", cfg.ReceiveRing}, {"MaxRing", cfg.MaxRing}} {
		if f.v > 0 && f.v < MinRingSize {
			return fmt.Errorf("ListenConfig.%s is %d bytes, below MinRingSize (%d)", f.name, f.v, MinRingSize)
		}
	}
	return nil
}

func orDefault[T ~int | ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
