package shm_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestRingLeaseStream: a RingSender and a RingReceiver on two goroutines
// move every message once and in order: Send, TrySend and Reserve with
// Commit (after an Abort), against Receive, TryReceive and Peek with
// Release; then CloseSend ends the stream.
func TestRingLeaseStream(t *testing.T) {
	n := shm.RingSize(ringProcMax, 8)
	o, _ := newAnonMapping(t, n)
	_, a := ringOn(t, o, n)
	_, b := ringOn(t, o, n)
	ctx := testCtx(t)
	if err := a.OpenSendExclusive(); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Sender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := b.Receiver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	const count = 3000
	sent := make(chan error, 1)
	go func() {
		// A reservation dropped first: the receiver skips it.
		if _, err := tx.Reserve(ctx, 10); err != nil {
			sent <- err
			return
		}
		if err := tx.Abort(); err != nil {
			sent <- err
			return
		}
		var buf []byte
		for i := range uint32(count) {
			buf = seqMessage(buf, 1, i, ringProcMax)
			if i%5 == 1 {
				room, err := tx.Reserve(ctx, ringProcMax)
				if err == nil {
					err = tx.Commit(copy(room, buf))
				}
				if err != nil {
					sent <- err
					return
				}
				continue
			}
			if i%2 == 0 {
				if err := tx.Send(ctx, buf); err != nil {
					sent <- err
					return
				}
				continue
			}
			for {
				ok, err := tx.TrySend(buf)
				if err != nil {
					sent <- err
					return
				}
				if ok {
					break
				}
				runtime.Gosched()
			}
		}
		sent <- tx.CloseSend()
	}()
	var buf []byte
	for i := uint32(0); ; i++ {
		var msg []byte
		switch i % 3 {
		case 0:
			msg, err = rx.Receive(ctx, buf)
		case 1:
			var ok bool
			for {
				msg, ok, err = rx.TryReceive(buf)
				if err != nil || ok {
					break
				}
				runtime.Gosched()
			}
		case 2:
			if msg, err = rx.Peek(ctx); err == nil {
				msg = append(buf[:0], msg...)
				err = rx.Release()
			}
		}
		if err == io.EOF {
			if i != count {
				t.Fatalf("io.EOF after %d of %d messages", i, count)
			}
			break
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		s, j, err := checkSeq(msg, ringProcMax)
		if err != nil || s != 1 || j != i {
			t.Fatalf("message %d: sender %d, number %d, %v", i, s, j, err)
		}
		buf = msg
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, []byte("x")); !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Send after CloseSend: %v", err)
	}
}

// TestRingLeaseExcludes: while a RingSender or RingReceiver is open, the
// handle's own calls of that side wait for it (a context that ends gets
// them out), and so does a second lease; after its Close they run.
func TestRingLeaseExcludes(t *testing.T) {
	_, r := newRing(t, shm.RingSize(64, 16))
	ctx := testCtx(t)
	tx, err := r.Sender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := r.Receiver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.Send(canceled, []byte("handle")); !errors.Is(err, context.Canceled) {
		t.Fatalf("the handle's Send beside a RingSender: %v, want context.Canceled", err)
	}
	if _, err := r.Receive(canceled, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("the handle's Receive beside a RingReceiver: %v, want context.Canceled", err)
	}
	if _, err := r.Sender(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a second Sender: %v, want context.Canceled", err)
	}
	if _, err := r.Receiver(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a second Receiver: %v, want context.Canceled", err)
	}
	if err := tx.Send(ctx, []byte("lease")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tx, rx, tx, rx} { // twice: idempotent
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Send(ctx, []byte("x")); !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Send through a closed RingSender: %v", err)
	}
	if _, err := rx.Receive(ctx, nil); !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Receive through a closed RingReceiver: %v", err)
	}
	if err := r.Send(ctx, []byte("handle")); err != nil {
		t.Fatalf("the handle's Send after the RingSender's Close: %v", err)
	}
	for _, want := range []string{"lease", "handle"} {
		msg, err := r.Receive(ctx, nil)
		if err != nil || string(msg) != want {
			t.Fatalf("got %q, %v; want %q", msg, err, want)
		}
	}
}

// TestRingLeaseCloseEndsWaits: a RingSender asleep on a full ring and a
// RingReceiver asleep on an empty one return ErrRingClosed when their
// Close comes from another goroutine, and the handle's calls work again.
// The sleep slices are an hour: only the Close's wake-up ends the waits.
func TestRingLeaseCloseEndsWaits(t *testing.T) {
	defer shm.SetRingFullSlice(time.Hour)()
	defer shm.SetRingIdleSlice(time.Hour)()
	_, full := newRing(t, shm.RingSize(64, 16))
	_, empty := newRing(t, shm.RingSize(64, 16))
	ctx := testCtx(t)
	if _, _, err := full.TryReceive(nil); err != nil { // a live receiver
		t.Fatal(err)
	}
	fillRing(t, full, make([]byte, 64))
	if err := empty.OpenSend(); err != nil { // a live sender
		t.Fatal(err)
	}
	tx, err := full.Sender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := empty.Receiver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full.SetSpin(0)
	empty.SetSpin(0)
	sent, got := make(chan error, 1), make(chan error, 1)
	go func() { sent <- tx.Send(ctx, make([]byte, 64)) }()
	go func() { _, err := rx.Receive(ctx, nil); got <- err }()
	if !waitUntil(func() bool { return shm.RingSenderSleeps(full) && shm.RingReceiverSleeps(empty) }) {
		t.Fatal("the RingSender and the RingReceiver never slept")
	}
	tx.Close()
	rx.Close()
	if err := <-sent; !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("a RingSender's Send at its Close: %v", err)
	}
	if err := <-got; !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("a RingReceiver's Receive at its Close: %v", err)
	}
	if _, _, err := full.TryReceive(nil); err != nil {
		t.Fatalf("the handle's TryReceive: %v", err)
	}
	if ok, err := full.TrySend(make([]byte, 64)); !ok || err != nil {
		t.Fatalf("the handle's TrySend after the RingSender's Close: %v, %v", ok, err)
	}
	if err := empty.Send(ctx, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if msg, ok, err := empty.TryReceive(nil); !ok || err != nil || string(msg) != "y" {
		t.Fatalf("the handle's TryReceive after the RingReceiver's Close: %q, %v, %v", msg, ok, err)
	}
}

// TestRingLeaseRingClose: the Ring's Close (or its Mapping's) ends a
// RingSender's and a RingReceiver's waits and returns, though the leases
// stay open; their later calls return ErrRingClosed, and their Close
// returns.
func TestRingLeaseRingClose(t *testing.T) {
	for _, how := range []string{"ring", "mapping"} {
		t.Run(how, func(t *testing.T) {
			defer shm.SetRingFullSlice(time.Hour)()
			defer shm.SetRingIdleSlice(time.Hour)()
			m, r := newRing(t, shm.RingSize(64, 16))
			other, err := m.Ring(0, shm.RingSize(64, 16))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			ctx := testCtx(t)
			if _, _, err := other.TryReceive(nil); err != nil {
				t.Fatal(err)
			}
			fillRing(t, r, make([]byte, 64))
			tx, err := r.Sender(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// A RingReceiver of another handle of the Mapping: the
			// Mapping's Close ends it too.
			rx, err := other.Receiver(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() { sent <- tx.Send(ctx, make([]byte, 64)) }()
			if !waitUntil(func() bool { return shm.RingSenderSleeps(r) }) {
				t.Fatal("the RingSender never slept")
			}
			if how == "ring" {
				err = r.Close()
			} else {
				err = m.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := <-sent; !errors.Is(err, shm.ErrRingClosed) {
				t.Fatalf("a RingSender's Send at the %s's Close: %v", how, err)
			}
			if err := tx.Send(ctx, nil); !errors.Is(err, shm.ErrRingClosed) {
				t.Fatalf("a RingSender's Send after the %s's Close: %v", how, err)
			}
			if err := tx.Close(); err != nil {
				t.Fatal(err)
			}
			if how == "mapping" {
				if _, err := rx.Receive(ctx, nil); !errors.Is(err, shm.ErrRingClosed) {
					t.Fatalf("a RingReceiver's Receive after the Mapping's Close: %v", err)
				}
			}
			if err := rx.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRingLeaseMappingCloseWaitsForSend: the Mapping's Close returns only
// once a RingSender's send in progress (stopped inside its claim, where
// it holds no gate and no hold on the mapping, only its busy word) has
// left the memory: the quiescing of ring_lease.go.
func TestRingLeaseMappingCloseWaitsForSend(t *testing.T) {
	m, r := newRing(t, shm.RingSize(64, 16))
	tx, err := r.Sender(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	mappingCloseWaitsForSend(t, m, r, func() error { return tx.Send(context.Background(), []byte("x")) })
}

// TestRingLeaseCloseSend: the handle's CloseSend, while a RingSender is
// open, returns at once; the receiver gets the messages and then io.EOF,
// and the RingSender's sends return ErrRingClosed.
func TestRingLeaseCloseSend(t *testing.T) {
	_, r := newRing(t, shm.RingSize(64, 16))
	ctx := testCtx(t)
	tx, err := r.Sender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Send(ctx, []byte("last")); err != nil {
		t.Fatal(err)
	}
	if err := r.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, []byte("x")); !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Send after CloseSend: %v", err)
	}
	if msg, err := r.Receive(ctx, nil); err != nil || string(msg) != "last" {
		t.Fatalf("got %q, %v", msg, err)
	}
	if _, err := r.Receive(ctx, nil); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
	tx.Close()
	if _, err := r.Sender(ctx); !errors.Is(err, shm.ErrRingClosed) {
		t.Fatalf("Sender after CloseSend: %v", err)
	}
}

// spinSink keeps the random delay of TestRingLeaseCloseRaces from being
// optimised away.
var spinSink int

// TestRingLeaseCloseRaces: a RingSender and a RingReceiver stream while,
// at a random moment, the Mapping, the Ring or the leases are closed from
// another goroutine. Each side must end with ErrRingClosed (or io.EOF),
// never touch the memory after the Mapping's Close has returned (which
// would fault), and the leases' Close must return.
func TestRingLeaseCloseRaces(t *testing.T) {
	rounds := 300
	if testing.Short() || raceEnabled {
		rounds = 60
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	n := shm.RingSize(64, 16)
	for round := range rounds {
		o, err := shm.CreateAnon(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		m, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Ring(0, n)
		if err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t)
		tx, err := r.Sender(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rx, err := r.Receiver(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ended := make(chan error, 2)
		go func() {
			msg := make([]byte, 64)
			for {
				if err := tx.Send(ctx, msg); err != nil {
					ended <- err
					return
				}
			}
		}()
		streaming := make(chan struct{})
		go func() {
			var buf []byte
			for i := 0; ; i++ {
				var err error
				if buf, err = rx.Receive(ctx, buf); err != nil {
					ended <- err
					return
				}
				if i == 0 {
					close(streaming)
				}
			}
		}()
		<-streaming
		// A random moment: up to some tens of microseconds of work, not
		// a yield (a Gosched could wait for the streaming goroutines'
		// time slices, seconds over the rounds).
		for range rng.IntN(20000) {
			spinSink++
		}
		how := round % 3
		switch how {
		case 0:
			err = m.Close()
		case 1:
			err = r.Close()
		case 2:
			tx.Close()
			rx.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := <-ended; !errors.Is(err, shm.ErrRingClosed) && err != io.EOF {
				t.Fatalf("round %d (close %d): a side ended with %v", round, how, err)
			}
		}
		tx.Close()
		rx.Close()
		r.Close()
		m.Close()
		o.Close()
	}
}
