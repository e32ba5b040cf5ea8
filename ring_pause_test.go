package shm_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestRingFullSenderPauses: a sender that spins for room on a full ring
// pauses between its looks (ring_pause.go). Each pause lasts at least its
// length by the clock, so over a spin that took e, the looks number at
// most the pauses that fit in e: the first, shorter one, then one per
// longest pause (the bound allows two more). Looking back to back, a spin
// of 20 ms makes hundreds of thousands of looks. The message still goes
// through once there is room, after the ones that filled the ring.
func TestRingFullSenderPauses(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no ring call spins, so none pauses")
	}
	const spin = 20 * time.Millisecond
	n := shm.RingSize(64, 1<<10) // small messages on a ring that pauses
	m, rx := newRing(t, n)
	tx, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, _, err := rx.TryReceive(nil); err != nil { // attach
		t.Fatal(err)
	}
	msg := make([]byte, 64)
	filled := fillRing(t, tx, msg)
	tx.SetSpin(spin)
	var looks atomic.Int64
	defer shm.SetRingLookHook(func() { looks.Add(1) })()
	start := time.Now()
	sent := make(chan error, 1)
	go func() { sent <- tx.Send(context.Background(), msg) }()
	// The sender says it sleeps once its spin is over.
	for !shm.RingSenderSleeps(tx) {
		runtime.Gosched()
	}
	e, n0 := time.Since(start), looks.Load()
	first, most := shm.RingPauses()
	if n0 == 0 {
		t.Fatalf("the sender slept after %v without a look while it spun", e)
	}
	if limit := 3 + int64((e-first)/most); n0 > limit {
		t.Fatalf("the sender looked %d times in %v of waiting; pausing from %v up to %v, it looks at most %d times", n0, e, first, most, limit)
	}
	// Room for the message: the sender wakes and sends.
	var buf []byte
	for i := range filled + 1 {
		if buf, err = rx.Receive(context.Background(), buf); err != nil || len(buf) != len(msg) {
			t.Fatalf("message %d of %d: %d bytes, %v", i, filled+1, len(buf), err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d looks in %v of spinning for room", n0, e)
}
