package shm_test

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// smallRings makes a ring of RingSize(64, 16) in a fresh mapping with a
// sending handle and a receiving one; c is its data capacity.
func smallRings(t *testing.T) (m *shm.Mapping, tx, rx *shm.Ring, c int) {
	t.Helper()
	m, tx = newRing(t, shm.RingSize(64, 16))
	rx, err := m.Ring(0, shm.RingSize(64, 16))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	st, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return m, tx, rx, st.Capacity
}

// sendFixed sends n-byte messages numbered [first, end).
func sendFixed(t *testing.T, r *shm.Ring, n int, first, end uint32) {
	t.Helper()
	msg := make([]byte, n)
	for i := first; i < end; i++ {
		binary.LittleEndian.PutUint32(msg, i)
		if ok, err := r.TrySend(msg); !ok || err != nil {
			t.Fatalf("message %d: ok=%v, %v", i, ok, err)
		}
	}
}

// straddle sends n-byte messages into the empty ring r of data capacity c
// until the last one straddles the middle of the data area, and receives
// them all: the last one, the last in the ring, stays consumed and not
// retired. A message of MaxMessage then fits only in its room: the tail
// lies past the middle, so the record goes to the start of the area,
// after a padding record to the end. It returns the number of messages.
func straddle(t *testing.T, tx, rx *shm.Ring, n, c int, peek bool) uint32 {
	t.Helper()
	rec := shm.RingRecordSize(n)
	k := uint32(c/2/rec + 1)
	if (int(k)-1)*rec == c/2 {
		t.Fatalf("%d-byte records end at the middle of a %d-byte area", rec, c)
	}
	sendFixed(t, tx, n, 0, k)
	receiveFixed(t, rx, 0, k-1)
	if peek {
		msg, err := rx.Peek(context.Background())
		if err != nil || binary.LittleEndian.Uint32(msg) != k-1 {
			t.Fatalf("peek: %v", err)
		}
		if err := rx.Release(); err != nil {
			t.Fatal(err)
		}
	} else {
		receiveFixed(t, rx, k-1, k)
	}
	if !shm.RingPending(rx) {
		t.Fatal("the last record was retired before the receiver's next call")
	}
	return k
}

// receiveFixed receives the messages numbered [first, end) of fillFixed.
func receiveFixed(t *testing.T, r *shm.Ring, first, end uint32) {
	t.Helper()
	for i := first; i < end; i++ {
		msg, ok, err := r.TryReceive(nil)
		if err != nil || !ok {
			t.Fatalf("message %d: ok=%v, %v", i, ok, err)
		}
		if got := binary.LittleEndian.Uint32(msg); got != i {
			t.Fatalf("message %d, want %d", got, i)
		}
	}
}

// TestRingReceiveFreesRoom: the receiver retires the last message in the
// ring at its next call, not before it returns; a sender that needs that
// room retires it itself, so a message received (or released) frees its
// room at once as far as senders can tell.
func TestRingReceiveFreesRoom(t *testing.T) {
	for _, peek := range []bool{false, true} {
		name := "receive"
		if peek {
			name = "peek"
		}
		t.Run(name, func(t *testing.T) {
			_, tx, rx, c := smallRings(t)
			straddle(t, tx, rx, 64, c, peek)
			if st, err := rx.Stats(); err != nil || st.Used != 0 {
				t.Fatalf("stats of the drained ring: %+v, %v", st, err)
			}
			big := make([]byte, rx.MaxMessage())
			big[0] = 0xAB
			if ok, err := tx.TrySend(big); !ok || err != nil {
				t.Fatalf("a MaxMessage message does not fit the drained ring: ok=%v, %v", ok, err)
			}
			if shm.RingPending(rx) {
				t.Fatal("the sender did not retire the consumed record")
			}
			got, ok, err := rx.TryReceive(nil)
			if err != nil || !ok || len(got) != len(big) || got[0] != 0xAB {
				t.Fatalf("receive of the large message: ok=%v, %v", ok, err)
			}
			// It was the last in the ring: retired at the next call.
			if _, ok, err := rx.TryReceive(nil); ok || err != nil {
				t.Fatalf("an extra message: ok=%v, %v", ok, err)
			}
			if shm.RingPending(rx) {
				t.Fatal("a call left the previous record consumed and not retired")
			}
			// Streaming: a message with another behind it stays
			// pending (retired in batches); the last one of a burst
			// is retired at the next call, whatever its size.
			sendFixed(t, tx, 8, 0, 2)
			receiveFixed(t, rx, 0, 2)
			if !shm.RingPending(rx) {
				t.Fatal("nothing pending after a burst of two")
			}
			if _, ok, err := rx.TryReceive(nil); ok || err != nil {
				t.Fatalf("an extra message: ok=%v, %v", ok, err)
			}
			if shm.RingPending(rx) {
				t.Fatal("the call after a burst's last message did not retire it")
			}
		})
	}
}

// TestRingReceiveWakesSleepingSender: a sender asleep for room is woken
// by the receive that makes it: a receiver that leaves a record pending
// retires it at once when a sender sleeps. The sender's sleep slice is an
// hour, so only that wake-up can end its wait.
func TestRingReceiveWakesSleepingSender(t *testing.T) {
	defer shm.SetRingFullSlice(time.Hour)()
	_, tx, rx, c := smallRings(t)
	tx.SetSpin(0)
	rec := shm.RingRecordSize(64)
	k := uint32(c/2/rec + 1)
	sendFixed(t, tx, 64, 0, k)
	receiveFixed(t, rx, 0, k-1)
	// The last message straddles the middle: MaxMessage waits for it.
	sent := make(chan error, 1)
	go func() { sent <- tx.Send(context.Background(), make([]byte, tx.MaxMessage())) }()
	for !shm.RingSenderSleeps(tx) {
		time.Sleep(time.Millisecond)
	}
	receiveFixed(t, rx, k-1, k)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Receive(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// TestRingRetireHolderKilled: a sender process killed while it retires
// what the receiver consumed (holding the retire word, before it moves
// the head).
// The next party that probes takes the word over and retires: the
// receiver at a polling receive, or a sender waiting for room at the end
// of its sleep slice. Nothing is lost.
func TestRingRetireHolderKilled(t *testing.T) {
	for _, who := range []string{"receiver", "sender"} {
		t.Run(who, func(t *testing.T) {
			o, m, tx := newRingObject(t)
			rx, err := m.Ring(0, ringProcN)
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			st, err := rx.Stats()
			if err != nil {
				t.Fatal(err)
			}
			k := straddle(t, tx, rx, 200, st.Capacity, false)
			c := startRingChild(t, o, "ring-send", "8", "retire", strconv.Itoa(rx.MaxMessage()))
			if l := c.line(t); l != "t" {
				t.Fatalf("the child said %q", l)
			}
			if shm.RingRetireHolder(rx) == 0 {
				t.Fatal("the child stopped in its retire without the retire word")
			}
			c.kill(t)
			if who == "receiver" {
				// The handle's first receive that finds nothing probes.
				if _, ok, err := rx.TryReceive(nil); ok || err != nil {
					t.Fatalf("a message from nowhere: ok=%v, %v", ok, err)
				}
				if shm.RingPending(rx) || shm.RingRetireHolder(rx) != 0 {
					t.Fatal("the receiver did not take over the dead sender's retire")
				}
				sendFixed(t, tx, rx.MaxMessage(), k, k+1)
			} else {
				// The room is the pending record's: only a take-over
				// gives it.
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				msg := make([]byte, rx.MaxMessage())
				binary.LittleEndian.PutUint32(msg, k)
				if err := tx.Send(ctx, msg); err != nil {
					t.Fatalf("send into the room of the dead sender's retire: %v", err)
				}
				if shm.RingRetireHolder(rx) != 0 {
					t.Fatal("the retire word is still held")
				}
			}
			receiveFixed(t, rx, k, k+1)
			if st, err := rx.Stats(); err != nil || st.Lost != 0 || st.Used != 0 {
				t.Fatalf("stats: %+v, %v", st, err)
			}
		})
	}
}

// TestRingFullLapPending: while a sender is stopped in its retire (holding
// the retire word), the receiver consumes a whole lap of the ring. Its
// position then lies a capacity past the head, where the oldest consumed
// record's header still stands: the receiver must wait for the retire,
// not read that header again as a new message.
func TestRingFullLapPending(t *testing.T) {
	m, tx, rx, c := smallRings(t)
	other, err := m.Ring(0, shm.RingSize(64, 16))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	straddle(t, tx, rx, 64, c, false)
	stopped, resume := make(chan struct{}), make(chan struct{})
	restore := shm.SetRingRetireHook(func() {
		close(stopped)
		<-resume
	})
	defer restore()
	var once sync.Once
	release := func() { once.Do(func() { close(resume) }) }
	defer release() // a failure must not leave the sender stopped: Close waits for it
	sent := make(chan error, 1)
	go func() { sent <- tx.Send(context.Background(), make([]byte, tx.MaxMessage())) }()
	<-stopped
	// Empty messages are 16-byte records: they fill the ring to exactly a
	// capacity past the head.
	n := fillRing(t, other, nil)
	for i := range n {
		msg, ok, err := rx.TryReceive(nil)
		if err != nil || !ok || len(msg) != 0 {
			t.Fatalf("empty message %d of %d: %d bytes, ok=%v, %v", i, n, len(msg), ok, err)
		}
	}
	if msg, ok, err := rx.TryReceive(nil); ok || err != nil {
		t.Fatalf("a %d-byte message after the lap (ok=%v, %v): the oldest consumed record read again", len(msg), ok, err)
	}
	release()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	msg, err := rx.Receive(context.Background(), nil)
	if err != nil || len(msg) != rx.MaxMessage() {
		t.Fatalf("the large message: %d bytes, %v", len(msg), err)
	}
}
