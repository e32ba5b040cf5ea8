package shm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/shmkit/shm"
)

// The fuzzed ring sits between two guard areas, which must come out
// unchanged.
const (
	fuzzGuard = 4096
	fuzzMax   = 64
	fuzzKey   = 1 // the rings' stamp key: position p's stamp is p^1
)

var (
	fuzzOnce sync.Once
	fuzzMap  *shm.Mapping
	fuzzErr  error
)

// fuzzMapping returns the mapping every fuzz input reuses: making an
// object per input would measure system calls, not the ring.
func fuzzMapping(n int) (*shm.Mapping, error) {
	fuzzOnce.Do(func() {
		o, err := shm.CreateAnon(int64(2*fuzzGuard + n))
		if err != nil {
			fuzzErr = err
			return
		}
		// The object stays open for the life of the fuzzing process.
		fuzzMap, fuzzErr = o.Map()
	})
	return fuzzMap, fuzzErr
}

// FuzzRing puts a ring in a state reached through the API, overwrites
// words of its header and data with the input (8-byte patches: a 2-byte
// word index, a 6-byte value; or a whole 8-byte value with the high bit
// of the index), then drives both sides. No input may panic, loop for
// ever, write outside the ring, or fail with an error other than the
// ring's own.
func FuzzRing(f *testing.F) {
	n := shm.RingSize(fuzzMax, 8)
	seed := func(patches ...[2]uint64) []byte {
		var b []byte
		for _, p := range patches {
			b = binary.LittleEndian.AppendUint16(b, uint16(p[0]))
			b = append(b, byte(p[1]), byte(p[1]>>8), byte(p[1]>>16), byte(p[1]>>24), byte(p[1]>>32), byte(p[1]>>40))
		}
		return b
	}
	f.Add([]byte{}, uint8(3), uint8(1))
	f.Add(seed([2]uint64{8, 1 << 20}), uint8(5), uint8(0))                                         // tail far ahead
	f.Add(seed([2]uint64{16, 24}), uint8(2), uint8(2))                                             // head past tail
	f.Add(seed([2]uint64{512, 0x3fff}, [2]uint64{513, 0}, [2]uint64{514, 16}), uint8(4), uint8(1)) // a dead sender's claim
	f.Add(seed([2]uint64{40, 1 << 15}, [2]uint64{41, 1 << 30}), uint8(1), uint8(3))                // wild record headers
	f.Add(seed([2]uint64{0, 0x52494e4700000001}), uint8(0), uint8(0))                              // another version (the first)
	f.Add(seed([2]uint64{0x8000 | 512, 0xffffffff}), uint8(6), uint8(1))
	f.Add(seed([2]uint64{17, 1 << 20}), uint8(8), uint8(2))              // consumed far past the tail
	f.Add(seed([2]uint64{17, 40}, [2]uint64{18, 1}), uint8(8), uint8(3)) // consumed mid-record, retire word held
	f.Add(seed([2]uint64{18, 0x3fffffff}), uint8(15), uint8(1))          // retire word held by a token no one has
	f.Add(seed([2]uint64{16, 16}, [2]uint64{17, 8}), uint8(6), uint8(5)) // consumed behind the head
	// Stamped headers (the key is fuzzKey: position 0's stamp is 1,
	// position 16's 17): one naming no sender, one with a wild length.
	f.Add(seed([2]uint64{8, 32}, [2]uint64{512, 5}, [2]uint64{513, 1}), uint8(0), uint8(0))
	f.Add(seed([2]uint64{8, 32}, [2]uint64{0x8000 | 514, 0x4005}, [2]uint64{515, 17}), uint8(1), uint8(1))
	f.Add(seed([2]uint64{4, 2}), uint8(3), uint8(1)) // an even stamp key
	// The exclusive sender word (off+40): a token no one has, one out of
	// range; the handle tries to send exclusively (receives bit 3).
	f.Add(seed([2]uint64{5, 0x3ffffff0}), uint8(4), uint8(8))
	f.Add(seed([2]uint64{5, 0xfffffff0}), uint8(4), uint8(9))
	f.Add(seed([2]uint64{8, 1 << 12}, [2]uint64{5, 0}), uint8(7), uint8(10))
	f.Fuzz(func(t *testing.T, patches []byte, sends, receives uint8) {
		m, err := fuzzMapping(n)
		if err != nil {
			t.Skip("no mapping:", err)
		}
		mem := m.Bytes()
		clear(mem)
		for i := range mem[:fuzzGuard] {
			mem[i] = 0xA5
			mem[fuzzGuard+n+i] = 0x5A
		}
		ring := mem[fuzzGuard : fuzzGuard+n]
		// A fixed stamp key, which the first attach adopts: the inputs
		// can then write headers with matching stamps.
		binary.NativeEndian.PutUint64(ring[32:], fuzzKey)
		ctx := context.Background()

		// A state reached through the API: some messages sent, some
		// received, a reservation outstanding.
		setup, err := m.Ring(fuzzGuard, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(sends % 16) {
			setup.TrySend(bytes.Repeat([]byte{byte(i)}, i*5%fuzzMax))
		}
		for range int(receives % 8) {
			setup.TryReceive(nil)
		}
		if sends&16 != 0 {
			setup.Reserve(ctx, int(sends)%fuzzMax)
		}
		// Leave the state as a dead process would: the handle's slots
		// stay taken (Close would free them).
		words := len(ring) / 8
		for len(patches) >= 8 {
			idx := int(binary.LittleEndian.Uint16(patches))
			var v uint64
			if idx&0x8000 != 0 {
				v = binary.LittleEndian.Uint64(append(patches[2:8:8], 0, 0))
				v |= v << 48
			} else {
				v = uint64(patches[2]) | uint64(patches[3])<<8 | uint64(patches[4])<<16 | uint64(patches[5])<<24 | uint64(patches[6])<<32 | uint64(patches[7])<<40
			}
			binary.NativeEndian.PutUint64(ring[(idx&0x7fff)%words*8:], v)
			patches = patches[8:]
		}

		allowed := func(err error) {
			t.Helper()
			if err == nil || err == io.EOF {
				return
			}
			for _, e := range []error{shm.ErrRingCorrupt, shm.ErrRingBusy, shm.ErrRingMismatch, shm.ErrPeerDead, context.DeadlineExceeded} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error: %v", err)
		}
		// The read-only view checks the same bytes and writes none.
		before := bytes.Clone(mem)
		_, serr := m.RingStats(fuzzGuard, n)
		allowed(serr)
		if !bytes.Equal(before, mem) {
			t.Fatal("RingStats changed the mapping")
		}
		rx, err := m.Ring(fuzzGuard, n)
		allowed(err)
		if err == nil {
			for range 32 {
				msg, ok, err := rx.TryReceive(nil)
				allowed(err)
				if err != nil || !ok {
					break
				}
				if len(msg) > rx.MaxMessage() {
					t.Fatalf("a %d-byte message from a ring whose maximum is %d", len(msg), rx.MaxMessage())
				}
			}
			expired, cancel := context.WithTimeout(ctx, 0)
			if msg, err := rx.Peek(expired); err == nil {
				if len(msg) > rx.MaxMessage() {
					t.Fatalf("a %d-byte peek", len(msg))
				}
				allowed(rx.Release())
			} else {
				allowed(err)
			}
			if receives&8 != 0 {
				allowed(rx.OpenSendExclusive())
			}
			for i := range 4 {
				_, err := rx.TrySend(make([]byte, i*20))
				allowed(err)
			}
			_, err = rx.Reserve(expired, 10)
			allowed(err)
			cancel()
			_, err = rx.Stats()
			allowed(err)
			allowed(rx.CloseSend())
			allowed(rx.Close())
		}
		setup.Close()
		for i := range fuzzGuard {
			if mem[i] != 0xA5 || mem[fuzzGuard+n+i] != 0x5A {
				t.Fatalf("a byte outside the ring changed (guard byte %d)", i)
			}
		}
	})
}
