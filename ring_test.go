package shm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// newRingMapping makes an anonymous object of size bytes and maps it.
func newRingMapping(t testing.TB, size int) *shm.Mapping {
	t.Helper()
	_, m := newAnonMapping(t, size)
	return m
}

// newAnonMapping makes an anonymous object of size bytes and maps it;
// both are closed when the test ends.
func newAnonMapping(t testing.TB, size int) (*shm.Object, *shm.Mapping) {
	t.Helper()
	o, err := shm.CreateAnon(int64(size))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return o, m
}

// newRing returns a ring of n bytes at offset 0 of a fresh mapping.
func newRing(t testing.TB, n int) (*shm.Mapping, *shm.Ring) {
	t.Helper()
	_, m, r := newAnonRing(t, n)
	return m, r
}

// newAnonRing returns a ring of n bytes at offset 0 of a fresh mapping,
// with the object and the mapping; all are closed when the test ends.
func newAnonRing(t testing.TB, n int) (*shm.Object, *shm.Mapping, *shm.Ring) {
	t.Helper()
	o, m := newAnonMapping(t, n)
	return o, m, openRing(t, m, 0, n)
}

// openRing returns a handle of the ring in bytes [off, off+n) of m,
// closed when the test ends.
func openRing(t testing.TB, m *shm.Mapping, off, n int) *shm.Ring {
	t.Helper()
	r, err := m.Ring(off, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// fillRing sends msg with TrySend until the ring is full and returns how
// many went in.
func fillRing(t testing.TB, r *shm.Ring, msg []byte) int {
	t.Helper()
	for n := 0; ; n++ {
		ok, err := r.TrySend(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
	}
}

// seqMessage is message i of sender s: its header (s, i), then filler
// whose length and bytes follow from (s, i).
func seqMessage(buf []byte, s, i uint32, maxLen int) []byte {
	n := 8 + int((uint64(s)*2654435761+uint64(i)*40503)%uint64(maxLen-7))
	buf = buf[:0]
	buf = binary.LittleEndian.AppendUint32(buf, s)
	buf = binary.LittleEndian.AppendUint32(buf, i)
	for j := 8; j < n; j++ {
		buf = append(buf, byte(s*31+i*7+uint32(j)))
	}
	return buf
}

// checkSeq verifies a message made by seqMessage and returns its (s, i).
func checkSeq(msg []byte, maxLen int) (s, i uint32, err error) {
	if len(msg) < 8 {
		return 0, 0, fmt.Errorf("%d-byte message", len(msg))
	}
	s, i = binary.LittleEndian.Uint32(msg), binary.LittleEndian.Uint32(msg[4:])
	if want := seqMessage(nil, s, i, maxLen); !bytes.Equal(msg, want) {
		return s, i, fmt.Errorf("message %d of sender %d: %d bytes, not the %d sent, or other content", i, s, len(msg), len(want))
	}
	return s, i, nil
}

func TestRingSize(t *testing.T) {
	for _, c := range []struct{ max, slots int }{{0, 1}, {1, 1}, {64, 1}, {64, 1000}, {1000, 3}, {65536, 16}, {1 << 20, 4}} {
		n := shm.RingSize(c.max, c.slots)
		if n <= 0 {
			t.Fatalf("RingSize(%d, %d) = %d", c.max, c.slots, n)
		}
		_, r := newRing(t, n)
		if r.MaxMessage() < c.max {
			t.Errorf("RingSize(%d, %d) = %d: MaxMessage %d", c.max, c.slots, n, r.MaxMessage())
		}
		// slots messages fit at once.
		msg := make([]byte, c.max)
		for k := range c.slots {
			if ok, err := r.TrySend(msg); !ok || err != nil {
				t.Fatalf("RingSize(%d, %d): message %d does not fit (%v, %v)", c.max, c.slots, k, ok, err)
			}
		}
	}
	for _, c := range []struct{ max, slots int }{{-1, 1}, {1, 0}, {1 << 30, 1}} {
		if n := shm.RingSize(c.max, c.slots); n != 0 {
			t.Errorf("RingSize(%d, %d) = %d, want 0", c.max, c.slots, n)
		}
	}
}

func TestRingSendReceive(t *testing.T) {
	_, r := newRing(t, shm.RingSize(500, 8))
	ctx := context.Background()
	var buf []byte
	// Many more messages than fit, of varied lengths, so that the ring
	// wraps many times with padding records.
	for i := range uint32(5000) {
		msg := seqMessage(nil, 0, i, 500)
		if err := r.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		got, err := r.Receive(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(msg))
		}
		buf = got
	}
	if _, ok, err := r.TryReceive(nil); ok || err != nil {
		t.Fatalf("TryReceive on an empty ring: %v, %v", ok, err)
	}
	// Empty messages are messages too.
	if err := r.Send(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Receive(ctx, buf); err != nil || len(got) != 0 {
		t.Fatalf("empty message: %q, %v", got, err)
	}
}

func TestRingTrySendFull(t *testing.T) {
	_, r := newRing(t, shm.RingSize(100, 4))
	msg := make([]byte, 100)
	sent := 0
	for {
		ok, err := r.TrySend(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		sent++
		if sent > 1000 {
			t.Fatal("a 4-slot ring took 1000 messages")
		}
	}
	if sent < 4 {
		t.Fatalf("only %d messages fit", sent)
	}
	for range sent {
		if _, ok, err := r.TryReceive(nil); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if ok, err := r.TrySend(msg); !ok || err != nil {
		t.Fatalf("TrySend after draining: %v, %v", ok, err)
	}
}

func TestRingTooLarge(t *testing.T) {
	_, r := newRing(t, shm.RingSize(100, 4))
	big := make([]byte, r.MaxMessage()+1)
	if err := r.Send(context.Background(), big); !errors.Is(err, shm.ErrMessageTooLarge) {
		t.Errorf("Send of %d bytes: %v", len(big), err)
	}
	if _, err := r.TrySend(big); !errors.Is(err, shm.ErrMessageTooLarge) {
		t.Errorf("TrySend: %v", err)
	}
	if _, err := r.Reserve(context.Background(), len(big)); !errors.Is(err, shm.ErrMessageTooLarge) {
		t.Errorf("Reserve: %v", err)
	}
	if err := r.Send(context.Background(), big[:r.MaxMessage()]); err != nil {
		t.Errorf("Send of MaxMessage bytes: %v", err)
	}
}

func TestRingReserveCommit(t *testing.T) {
	_, r := newRing(t, shm.RingSize(256, 8))
	ctx := context.Background()
	for i := range 200 {
		b, err := r.Reserve(ctx, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 200 {
			t.Fatalf("Reserve(200) gave %d bytes", len(b))
		}
		n := i % 201
		for j := range n {
			b[j] = byte(i + j)
		}
		switch {
		case i%7 == 3:
			if err := r.Abort(); err != nil {
				t.Fatal(err)
			}
			continue
		default:
			if err := r.Commit(n); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.Peek(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("message %d: %d bytes, want %d", i, len(got), n)
		}
		for j := range n {
			if got[j] != byte(i+j) {
				t.Fatalf("message %d byte %d: %d", i, j, got[j])
			}
		}
		again, err := r.Peek(ctx)
		if err != nil || len(again) != n || n > 0 && &again[0] != &got[0] {
			t.Fatalf("a second Peek did not return the same message: %v", err)
		}
		if err := r.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Commit(0); err == nil {
		t.Error("Commit without a reservation succeeded")
	}
	if err := r.Release(); err == nil {
		t.Error("Release without a Peek succeeded")
	}
	if _, err := r.Reserve(ctx, 10); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	if _, err := r.Reserve(short, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second outstanding Reserve: %v", err)
	}
	if err := r.Commit(11); err == nil {
		t.Error("Commit of more than reserved succeeded")
	}
	if err := r.Commit(10); err != nil {
		t.Fatal(err)
	}
}

func TestRingCloseSendEOF(t *testing.T) {
	m, rx := newRing(t, shm.RingSize(64, 16))
	ctx := context.Background()
	var txs []*shm.Ring
	for range 3 {
		tx, err := m.Ring(0, shm.RingSize(64, 16))
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		txs = append(txs, tx)
	}
	for i, tx := range txs {
		if err := tx.Send(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tx := range txs[:2] {
		if err := tx.CloseSend(); err != nil {
			t.Fatal(err)
		}
	}
	if err := txs[0].Send(ctx, []byte("x")); !errors.Is(err, shm.ErrRingClosed) || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Send after CloseSend: %v", err)
	}
	for i := range 3 {
		got, err := rx.Receive(ctx, nil)
		if err != nil || len(got) != 1 || got[0] != byte(i) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
	}
	// One sender is still open: no EOF yet.
	if _, ok, err := rx.TryReceive(nil); ok || err != nil {
		t.Fatalf("TryReceive with a sender open: %v, %v", ok, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := rx.Receive(ctx, nil)
		done <- err
	}()
	if err := txs[2].CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != io.EOF {
		t.Fatalf("Receive after the last CloseSend: %v, want io.EOF", err)
	}
	if err := txs[2].CloseSend(); err != nil {
		t.Errorf("second CloseSend: %v", err)
	}
}

func TestRingMismatch(t *testing.T) {
	n := shm.RingSize(64, 16)
	m := newRingMapping(t, 2*n)
	r, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := m.Ring(0, n+4096); !errors.Is(err, shm.ErrRingMismatch) {
		t.Errorf("Ring with another size: %v", err)
	}
	// A ring of an earlier layout version (3: its receivers take a zero
	// header word for an unwritten record, and clear what they consume).
	binary.NativeEndian.PutUint64(m.Bytes()[n:], 0x52494E47<<32|3)
	binary.NativeEndian.PutUint64(m.Bytes()[n+8:], uint64(n))
	if _, err := m.Ring(n, n); !errors.Is(err, shm.ErrRingMismatch) {
		t.Errorf("Ring over a version-3 ring: %v", err)
	}
	clear(m.Bytes()[n : n+16])
	// A stamp key that no attach wrote: even.
	binary.NativeEndian.PutUint64(m.Bytes()[n+32:], 0x1234)
	if _, err := m.Ring(n, n); !errors.Is(err, shm.ErrRingCorrupt) || !strings.Contains(err.Error(), "stamp key 0x1234") {
		t.Errorf("Ring with an even stamp key: %v", err)
	}
	clear(m.Bytes()[n : n+40])
	// Bytes that hold something else.
	copy(m.Bytes()[n:], "not a ring at all")
	if _, err := m.Ring(n, n); !errors.Is(err, shm.ErrRingCorrupt) {
		t.Errorf("Ring over other bytes: %v", err)
	}
	if _, err := m.Ring(4, n); err == nil {
		t.Error("Ring at an unaligned offset succeeded")
	}
	if _, err := m.Ring(0, 100); err == nil {
		t.Error("a 100-byte ring succeeded")
	}
	if _, err := m.Ring(n+8, 2*n); err == nil {
		t.Error("a ring past the mapping's end succeeded")
	}
}

func TestRingSecondReceiver(t *testing.T) {
	m, r1 := newRing(t, shm.RingSize(64, 16))
	r2, err := m.Ring(0, shm.RingSize(64, 16))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, _, err := r1.TryReceive(nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r2.TryReceive(nil); !errors.Is(err, shm.ErrRingBusy) {
		t.Fatalf("a second receiver: %v", err)
	}
	r1.Close()
	if _, _, err := r2.TryReceive(nil); err != nil {
		t.Fatalf("a receiver after the first closed: %v", err)
	}
}

func TestRingCancelWakes(t *testing.T) {
	_, r := newRing(t, shm.RingSize(64, 16))
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := r.Receive(ctx, nil)
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive after cancel: %v", err)
	}
	// A deadline in the past.
	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	if _, err := r.Receive(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive with an expired deadline: %v", err)
	}
}

func TestRingCloseWakes(t *testing.T) {
	_, r := newRing(t, shm.RingSize(64, 16))
	done := make(chan error, 1)
	go func() {
		_, err := r.Receive(context.Background(), nil)
		done <- err
	}()
	// Wait until the receiver is attached, so that Close meets it blocked
	// or about to block.
	for {
		s, err := r.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if s.Receiver {
			break
		}
	}
	r.Close()
	if err := <-done; !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Receive after Close: %v", err)
	}
	if err := r.Send(context.Background(), nil); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRingMappingClosed(t *testing.T) {
	m, r := newRing(t, shm.RingSize(64, 16))
	done := make(chan error, 1)
	go func() {
		_, err := r.Receive(context.Background(), nil)
		done <- err
	}()
	for {
		s, _ := r.Stats()
		if s.Receiver {
			break
		}
	}
	m.Close()
	if err := <-done; !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Receive after the Mapping's Close: %v", err)
	}
	if _, err := r.TrySend(nil); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("TrySend after the Mapping's Close: %v", err)
	}
}

// TestRingMappingCloseWaitsForSend: the Mapping's Close closes its rings
// first and returns only once a send in progress (stopped inside its
// claim, where it holds the handle's gate and no hold on the mapping) has
// left the memory.
func TestRingMappingCloseWaitsForSend(t *testing.T) {
	m, r := newRing(t, shm.RingSize(64, 16))
	mappingCloseWaitsForSend(t, m, r, func() error { return r.Send(context.Background(), []byte("x")) })
}

// mappingCloseWaitsForSend stops send (a send through r) inside its claim
// and checks that m.Close returns only after the send has left the ring.
func mappingCloseWaitsForSend(t *testing.T, m *shm.Mapping, r *shm.Ring, send func() error) {
	t.Helper()
	var seq atomic.Int32
	paused, resume := make(chan struct{}), make(chan struct{})
	defer shm.SetRingClaimHook(func() {
		close(paused)
		<-resume
	})()
	// The send's step is taken as it leaves the ring, after its last
	// access to the memory and before it lets its gate go: taken after
	// Send returns, it raced with a Close that completes as soon as the
	// gate is free (seen under qemu-user on a loaded host).
	var left atomic.Int32
	defer shm.SetRingLeaveHook(func() { left.CompareAndSwap(0, seq.Add(1)) })()
	sent := make(chan int32, 1)
	go func() {
		err := send()
		if err != nil && !errors.Is(err, shm.ErrRingClosed) {
			t.Errorf("Send during the Mapping's Close: %v", err)
		}
		sent <- left.Load()
	}()
	<-paused
	closed := make(chan int32, 1)
	go func() {
		m.Close()
		closed <- seq.Add(1)
	}()
	for !shm.RingClosing(r) {
		select {
		case <-closed:
			close(resume)
			<-sent
			t.Fatal("the Mapping's Close returned while a send was inside the ring, without closing the ring")
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-closed:
		close(resume)
		<-sent
		t.Fatal("the Mapping's Close returned while a send was inside the ring")
	default:
	}
	close(resume)
	s, c := <-sent, <-closed
	if s == 0 {
		t.Fatal("the send did not send (its leave hook did not run)")
	}
	if c < s {
		t.Fatalf("the Mapping's Close returned (step %d) before the send left the ring (step %d)", c, s)
	}
	if _, err := r.TrySend(nil); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("TrySend after the Mapping's Close: %v", err)
	}
}

// TestRingSenderWokenBelowHalf: a sender asleep on a full ring, and a
// receiver that reads one message and then stops, leaving the ring more
// than half full: the receiver wakes senders at once only at half, so
// the deferred wake-up must come. The sender's sleep slice is made an
// hour, so that only a wake-up ends its wait (the deadline below is a
// hang guard).
func TestRingSenderWokenBelowHalf(t *testing.T) {
	defer shm.SetRingFullSlice(time.Hour)()
	n := shm.RingSize(100, 4)
	o, _, rx := newAnonRing(t, n)
	m2, err := o.Map() // another Mapping: the sender's own handle
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	tx, err := m2.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rx.TryReceive(nil); err != nil { // attach the receiver
		t.Fatal(err)
	}
	msg := make([]byte, 100)
	sent := fillRing(t, tx, msg)
	done := make(chan error, 1)
	go func() { done <- tx.Send(context.Background(), msg) }()
	// Wait until the sender sleeps (its bit in the wake word), then read
	// one message.
	for !shm.RingSenderSleeps(tx) {
		runtime.Gosched()
	}
	if _, ok, err := rx.TryReceive(nil); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if st, err := rx.Stats(); err != nil || 2*st.Used <= st.Capacity {
		t.Fatalf("after one receive: %+v, %v; the ring must stay more than half full", st, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the sender was not woken with room for its message (%d sent before it)", sent)
	}
}

func TestRingReceiverClosedPeerDead(t *testing.T) {
	m, tx := newRing(t, shm.RingSize(64, 2))
	rx, err := m.Ring(0, shm.RingSize(64, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rx.TryReceive(nil); err != nil {
		t.Fatal(err)
	}
	for {
		ok, err := tx.TrySend(make([]byte, 64))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	rx.Close()
	if err := tx.Send(context.Background(), make([]byte, 64)); !errors.Is(err, shm.ErrPeerDead) {
		t.Fatalf("Send into a full ring whose receiver closed: %v", err)
	}
	// Asked to, it waits for a new receiver.
	tx.WaitForReceiver(true)
	done := make(chan error, 1)
	go func() { done <- tx.Send(context.Background(), make([]byte, 64)) }()
	rx2, err := m.Ring(0, shm.RingSize(64, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer rx2.Close()
	if _, err := rx2.Receive(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Send waiting for a new receiver: %v", err)
	}
}

// TestRingGoroutines: senders on their own handles and on a shared handle,
// into one receiver: every message once, in order per sender.
func TestRingGoroutines(t *testing.T) {
	const (
		senders = 6
		each    = 3000
		maxLen  = 300
	)
	n := shm.RingSize(maxLen, 16)
	m, rx := newRing(t, n)
	shared, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	ctx := context.Background()
	// Every sender registers before any closes, so that the receiver sees
	// no end between them.
	txs := make([]*shm.Ring, senders)
	for s := range txs {
		txs[s] = shared
		if s%2 == 0 {
			if txs[s], err = m.Ring(0, n); err != nil {
				t.Fatal(err)
			}
		}
		if err := txs[s].OpenSend(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for s := range uint32(senders) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx := txs[s]
			if s%2 == 0 {
				defer tx.CloseSend()
			}
			var buf []byte
			for i := range uint32(each) {
				buf = seqMessage(buf, s, i, maxLen)
				var err error
				switch i % 3 {
				case 0:
					err = tx.Send(ctx, buf)
				case 1:
					var b []byte
					if b, err = tx.Reserve(ctx, len(buf)); err == nil {
						copy(b, buf)
						err = tx.Commit(len(buf))
					}
				default:
					for {
						ok, e := tx.TrySend(buf)
						if ok || e != nil {
							err = e
							break
						}
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		shared.CloseSend()
	}()
	next := make([]uint32, senders)
	var buf []byte
	for {
		msg, err := rx.Receive(ctx, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s, i, err := checkSeq(msg, maxLen)
		if err != nil {
			t.Fatal(err)
		}
		if s >= senders || i != next[s] {
			t.Fatalf("message %d of sender %d, expected %d", i, s, next[s])
		}
		next[s]++
		buf = msg
	}
	for s, n := range next {
		if n != each {
			t.Errorf("sender %d: %d messages, want %d", s, n, each)
		}
	}
}

// TestRingRandomOps mixes every operation with random sizes against a
// model of the queue.
func TestRingRandomOps(t *testing.T) {
	_, r := newRing(t, shm.RingSize(1000, 4))
	ctx := context.Background()
	var queue [][]byte
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		switch rng.IntN(4) {
		case 0, 1:
			msg := make([]byte, rng.IntN(r.MaxMessage()+1))
			for j := range msg {
				msg[j] = byte(rng.Uint32())
			}
			ok, err := r.TrySend(msg)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				queue = append(queue, msg)
			} else if len(queue) == 0 {
				t.Fatalf("step %d: a %d-byte message does not fit an empty ring", step, len(msg))
			}
		case 2:
			got, ok, err := r.TryReceive(nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(queue) > 0) {
				t.Fatalf("step %d: TryReceive ok=%v with %d queued", step, ok, len(queue))
			}
			if ok {
				if !bytes.Equal(got, queue[0]) {
					t.Fatalf("step %d: wrong message", step)
				}
				queue = queue[1:]
			}
		case 3:
			if len(queue) == 0 {
				continue
			}
			got, err := r.Peek(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, queue[0]) {
				t.Fatalf("step %d: Peek returned the wrong message", step)
			}
			if err := r.Release(); err != nil {
				t.Fatal(err)
			}
			queue = queue[1:]
		}
	}
}

// TestRingDeadClaims: sender processes killed holding a claim with no
// header, and holding a reservation; the receiver skips both, counts them
// lost, and delivers the rest in order.
func TestRingDeadClaims(t *testing.T) {
	o, _, rx := newRingObject(t)
	ctx := context.Background()
	send := func(i byte) {
		t.Helper()
		if err := rx.Send(ctx, []byte{i}); err != nil {
			t.Fatal(err)
		}
	}
	send(0)
	claimer := startRingChild(t, o, "ring-send", "5", "claim", "50")
	fmt.Fprintln(claimer.in, "go")
	if l := claimer.line(t); l != "c" {
		t.Fatalf("the claiming child said %q", l)
	}
	claimer.kill(t)
	send(1)
	reserver := startRingChild(t, o, "ring-send", "6", "hang", "0")
	if l := reserver.line(t); l != "r" {
		t.Fatalf("the reserving child said %q", l)
	}
	reserver.kill(t)
	send(2)
	for want := range byte(3) {
		got, err := rx.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("got %v, want [%d]", got, want)
		}
	}
	st, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Lost != 2 {
		t.Errorf("Lost = %d, want 2", st.Lost)
	}
	if st.Used != 0 {
		t.Errorf("Used = %d after draining", st.Used)
	}
}

// TestRingAttachRacesTail moves head and tail by several capacities
// between the head and tail loads of a sender's attach, as a process
// descheduled there on a loaded machine sees: the attach must not call
// the ring corrupt (it did: tail-head looked larger than the capacity).
func TestRingAttachRacesTail(t *testing.T) {
	n := shm.RingSize(100, 8)
	_, m, rx := newAnonRing(t, n)
	tx, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	ctx := context.Background()
	st, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, st.MaxMessage)
	if err := rx.Send(ctx, msg); err != nil { // rx attaches (as sender) first
		t.Fatal(err)
	}
	if _, err := rx.Receive(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ran := false
	defer shm.SetRingIndicesHook(func() {
		if ran {
			return
		}
		ran = true
		// Three capacities pass, and the ring is left nearly full.
		for range 3*st.Capacity/len(msg) + 1 {
			if err := rx.Send(ctx, msg); err != nil {
				t.Fatal(err)
			}
			if _, err := rx.Receive(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := rx.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	})()
	if err := tx.Send(ctx, []byte{7}); err != nil {
		t.Fatalf("send after a raced attach: %v", err)
	}
	if !ran {
		t.Fatal("the attach did not load head and tail")
	}
	for _, want := range []int{len(msg), 1} {
		got, err := rx.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("received %d bytes, want %d", len(got), want)
		}
	}
}

// TestRingFirstReceiverRacesSend attaches the ring's first receiver
// while a send looks for it, between its loads of the receiver-seen flag
// and of the receiver slot. The send must not take the receiver for one
// that left: when it read the slot first, it saw the slot free and then
// the new receiver's flag, and failed with ErrPeerDead (a Conn's first
// Write failed so, rarely, while the peer's first Read attached).
func TestRingFirstReceiverRacesSend(t *testing.T) {
	n := shm.RingSize(100, 8)
	_, m, tx := newAnonRing(t, n)
	rx := openRing(t, m, 0, n)
	ctx := context.Background()
	looks := 0
	defer shm.SetRingReceiverHook(func() {
		if looks++; looks == 1 {
			if _, ok, err := rx.TryReceive(nil); err != nil || ok {
				t.Errorf("the receiver's first look: %v, %v", ok, err)
			}
		}
	})()
	if err := tx.Send(ctx, []byte("first")); err != nil {
		t.Fatalf("send while the first receiver attached: %v", err)
	}
	if looks == 0 {
		t.Fatal("the send did not look for the receiver")
	}
	if got, err := rx.Receive(ctx, nil); err != nil || string(got) != "first" {
		t.Fatalf("received %q, %v", got, err)
	}
}

// TestRingFirstReceiverRacesFullSend is TestRingFirstReceiverRacesSend
// for a send waiting on a full ring, whose probes ask whether a receiver
// is gone: the first receiver attaches during the first probe's look and
// makes room.
func TestRingFirstReceiverRacesFullSend(t *testing.T) {
	n := shm.RingSize(100, 2)
	_, m, tx := newAnonRing(t, n)
	rx := openRing(t, m, 0, n)
	ctx := context.Background()
	msg := make([]byte, 100)
	sent := fillRing(t, tx, msg)
	// The send's first look is at its start; the second is its first
	// probe, waiting for room.
	var looks atomic.Int32
	defer shm.SetRingReceiverHook(func() {
		if looks.Add(1) == 2 {
			if _, ok, err := rx.TryReceive(nil); err != nil || !ok {
				t.Errorf("the receiver's first receive: %v, %v", ok, err)
			}
		}
	})()
	if err := tx.Send(ctx, msg); err != nil {
		t.Fatalf("send on a full ring while the first receiver attached: %v", err)
	}
	if looks.Load() < 2 {
		t.Fatalf("the send looked for the receiver %d times, want a probe", looks.Load())
	}
	for range sent {
		if _, err := rx.Receive(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRingReclaimRacesDeath lets a sender claim room and die after a new
// sender read the tail and before it probes the dead sender's slot: the
// slot, the only trace of the claim, must not be reclaimed (it was, and
// the receiver then found room claimed by no sender: ErrRingCorrupt).
func TestRingReclaimRacesDeath(t *testing.T) {
	o, _, rx := newRingObject(t)
	ring := func() *shm.Ring {
		t.Helper()
		m, err := o.Map() // a Mapping of its own: a liveness token of its own
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		r, err := m.Ring(0, ringProcN)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Every slot but the victim's holds a live sender.
	var live *shm.Ring
	for range shm.RingSenders - 1 {
		r := ring()
		if err := r.OpenSend(); err != nil {
			t.Fatal(err)
		}
		live = r
	}
	victim := startRingChild(t, o, "ring-send", "9", "claim", "10")
	newcomer := ring()
	ran := false
	defer shm.SetRingReclaimHook(func() {
		if ran {
			return
		}
		ran = true
		// The victim claims and is killed holding its claim.
		fmt.Fprintln(victim.in, "go")
		if l := victim.line(t); l != "c" {
			t.Errorf("the victim said %q", l)
		}
		victim.kill(t)
	})()
	if err := newcomer.OpenSend(); !errors.Is(err, shm.ErrRingBusy) {
		t.Fatalf("attach with every slot live or holding a claim: %v, want ErrRingBusy", err)
	}
	if !ran {
		t.Fatal("the attach did not look for dead senders")
	}
	// The receiver skips the dead claim (the victim's slot still names
	// it) and gets the message sent after it.
	ctx := context.Background()
	if err := live.Send(ctx, []byte{1}); err != nil {
		t.Fatal(err)
	}
	got, err := rx.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("got %v, want [1]", got)
	}
	if st, err := rx.Stats(); err != nil || st.Lost != 1 {
		t.Fatalf("Stats: %+v, %v; want Lost 1", st, err)
	}
}
