package shm_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// A token that no owner can hold (above the 30 bits of a token) in a
// sender slot or in the receiver slot is a corrupt ring. Stats and the
// attaching calls said so already; these tests check that the waiting and
// probing paths do too, instead of taking the token for a live peer and
// waiting for ever. Each case has a control with a possible token that no
// live owner holds (a dead peer), which must end as a dead peer does. The
// waits are bounded by ctx only so that a regression fails instead of
// hanging: a correct ring answers at its first probe.

// hostileWait bounds the calls below; it is far above the time a probe
// takes (ringStuckSlice), even on a loaded machine.
const hostileWait = time.Minute

func putRingWord32(m *shm.Mapping, off int, v uint32) {
	binary.NativeEndian.PutUint32(m.Bytes()[off:], v)
}

// setRingFlag sets flag f in the ring's 32-bit flags word, which is in
// the machine's byte order (on s390x its low bits are in its last byte).
func setRingFlag(m *shm.Mapping, f uint32) {
	b := m.Bytes()[shm.RingOffFlags:]
	binary.NativeEndian.PutUint32(b, binary.NativeEndian.Uint32(b)|f)
}

// TestRingImpossibleTokenUnwrittenClaim: the receiver finds room below the
// tail whose header is unwritten, claimed by a slot with an impossible
// token. Control: the same claim with no slot behind it.
func TestRingImpossibleTokenUnwrittenClaim(t *testing.T) {
	for _, tok := range []uint32{shm.RingImpossibleToken, ^uint32(0), 0} {
		n := shm.RingSize(64, 8)
		m, rx := newRing(t, n)
		if _, _, err := rx.TryReceive(nil); err != nil { // attach as the receiver
			t.Fatal(err)
		}
		slot := shm.RingOffSenders + 5*shm.RingSlotSize
		putRingWord32(m, slot, tok)
		binary.NativeEndian.PutUint64(m.Bytes()[slot+shm.RingSlotIntentPos:], 0)
		binary.NativeEndian.PutUint64(m.Bytes()[slot+shm.RingSlotIntentLen:], 32)
		binary.NativeEndian.PutUint64(m.Bytes()[shm.RingOffTail:], 32)
		setRingFlag(m, shm.RingFlagSenderSeen)
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		_, err := rx.Receive(ctx, nil)
		cancel()
		if !errors.Is(err, shm.ErrRingCorrupt) {
			t.Errorf("slot token %#x: Receive: %v, want ErrRingCorrupt", tok, err)
		}
	}
}

// TestRingImpossibleTokenSenderSlot: an empty ring whose only registered
// sender slot holds an impossible token never ends in io.EOF: TryReceive
// and Receive report it corrupt. Control: a dead sender's token gives
// io.EOF.
func TestRingImpossibleTokenSenderSlot(t *testing.T) {
	for _, c := range []struct {
		tok  uint32
		want error
	}{{0x12345, io.EOF}, {shm.RingImpossibleToken, shm.ErrRingCorrupt}, {^uint32(0), shm.ErrRingCorrupt}} {
		n := shm.RingSize(64, 8)
		m, rx := newRing(t, n)
		if _, _, err := rx.TryReceive(nil); err != nil {
			t.Fatal(err)
		}
		putRingWord32(m, shm.RingOffSenders+3*shm.RingSlotSize, c.tok)
		setRingFlag(m, shm.RingFlagSenderSeen)
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		_, err := rx.Receive(ctx, nil)
		cancel()
		if !errors.Is(err, c.want) {
			t.Errorf("slot token %#x: Receive: %v, want %v", c.tok, err, c.want)
		}
		// TryReceive probes the senders now and then: it answers the same
		// once it has probed.
		var terr error
		for deadline := time.Now().Add(hostileWait); terr == nil && time.Now().Before(deadline); {
			_, _, terr = rx.TryReceive(nil)
			if terr == nil {
				time.Sleep(time.Millisecond)
			}
		}
		if !errors.Is(terr, c.want) {
			t.Errorf("slot token %#x: TryReceive: %v, want %v", c.tok, terr, c.want)
		}
	}
}

// TestRingImpossibleTokenReceiverSlot: a full ring whose receiver slot
// holds an impossible token: a waiting Send and a polling TrySend report
// it corrupt, as a new receiver's attach does. Control: a dead receiver's
// token gives ErrPeerDead.
func TestRingImpossibleTokenReceiverSlot(t *testing.T) {
	for _, c := range []struct {
		tok  uint32
		want error
	}{{0x12345, shm.ErrPeerDead}, {shm.RingImpossibleToken, shm.ErrRingCorrupt}, {^uint32(0), shm.ErrRingCorrupt}} {
		n := shm.RingSize(64, 8)
		m, tx := newRing(t, n)
		fillRing(t, tx, make([]byte, 64))
		putRingWord32(m, shm.RingOffRxSlot, c.tok)
		setRingFlag(m, shm.RingFlagReceiverSeen)
		if c.want == shm.ErrRingCorrupt {
			rx := openRing(t, m, 0, n)
			if _, _, err := rx.TryReceive(nil); !errors.Is(err, shm.ErrRingCorrupt) {
				t.Errorf("receiver token %#x: attach as receiver: %v, want ErrRingCorrupt", c.tok, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		err := tx.Send(ctx, make([]byte, 64))
		cancel()
		if !errors.Is(err, c.want) {
			t.Errorf("receiver token %#x: Send on a full ring: %v, want %v", c.tok, err, c.want)
		}
		var terr error
		for deadline := time.Now().Add(hostileWait); terr == nil && time.Now().Before(deadline); {
			_, terr = tx.TrySend(make([]byte, 64))
			if terr == nil {
				time.Sleep(time.Millisecond)
			}
		}
		if !errors.Is(terr, c.want) {
			t.Errorf("receiver token %#x: TrySend: %v, want %v", c.tok, terr, c.want)
		}
	}
}

// TestRingImpossibleTokenAttachSender: with every sender slot taken and
// one of them holding an impossible token, a new sender is told the ring
// is corrupt, not busy.
func TestRingImpossibleTokenAttachSender(t *testing.T) {
	n := shm.RingSize(64, 8)
	m, _ := newRing(t, n)
	for i := range shm.RingSenders {
		putRingWord32(m, shm.RingOffSenders+i*shm.RingSlotSize, 0x1000+uint32(i))
	}
	// The first slot a reclaim looks at: a dead token after it would be
	// taken over before the impossible one is seen.
	putRingWord32(m, shm.RingOffSenders, shm.RingImpossibleToken)
	setRingFlag(m, shm.RingFlagSenderSeen)
	tx := openRing(t, m, 0, n)
	if _, err := tx.TrySend([]byte("x")); !errors.Is(err, shm.ErrRingCorrupt) {
		t.Errorf("TrySend with every slot taken, one by an impossible token: %v, want ErrRingCorrupt", err)
	}
}
