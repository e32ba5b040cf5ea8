package shm_test

import (
	"context"
	"encoding/binary"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// The publish rule is plain data: which receivers keep a grace after
// setting their sleeps bit (those whose senders may publish with a plain
// store: x86).
func TestRingPublishGrace(t *testing.T) {
	for arch, want := range map[string]bool{
		"amd64": true, "386": true,
		"arm64": false, "arm": false, "riscv64": false, "ppc64le": false,
		"ppc64": false, "s390x": false, "loong64": false, "mips64le": false,
	} {
		if got := shm.RingPublishGrace(arch) > 0; got != want {
			t.Errorf("grace on %s: %v, want %v", arch, got, want)
		}
	}
	if got, want := shm.RingRecvGrace(), shm.RingPublishGrace(runtime.GOARCH); got != want {
		t.Errorf("this process's grace %v, want %v", got, want)
	}
}

// TestRingGraceSeesLatePublish: a header that becomes visible only after
// the receiver has set its sleeps bit and looked, from a sender that
// never saw the bit (on x86, a sender's load of the wake word may pass
// its header store), reaches the receiver without a wake-up: the grace
// sees it. The receiver's slice on an empty ring is an hour, so without
// the grace Receive would wait until the guard context ends.
func TestRingGraceSeesLatePublish(t *testing.T) {
	if shm.RingRecvGrace() == 0 {
		t.Skipf("receivers on %s keep no grace: their senders publish with sequentially consistent stores", runtime.GOARCH)
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no grace (a sender's stores are visible once it is switched out)")
	}
	defer shm.SetRingIdleSlice(time.Hour)()
	_, tx, rx, _ := smallRings(t)
	if err := tx.OpenSend(); err != nil {
		t.Fatal(err)
	}
	rx.SetSpin(0)
	var once sync.Once
	hooked := make(chan error, 1)
	defer shm.SetRingGraceHook(func() {
		once.Do(func() { hooked <- shm.RingSendUnseen(tx, []byte("late")) })
	})()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard, not a measure
	defer cancel()
	msg, err := rx.Receive(ctx, nil)
	if err != nil {
		t.Fatalf("receive: %v (the grace did not see the late header)", err)
	}
	if err := <-hooked; err != nil {
		t.Fatal(err)
	}
	if string(msg) != "late" {
		t.Fatalf("got %q, want %q", msg, "late")
	}
}

// TestRingSenderGraceSeesLateConsume: room that becomes visible only
// after a sender on a full ring has set its sleeps bit and looked, from a
// receiver that never saw the bit (on x86, the receiver's load of the
// senders' wake word may pass its store of how far it consumed), reaches
// the sender without a wake-up: its grace sees it. The sender's slice on
// a full ring is an hour, so without the grace Send would wait until the
// guard context ends.
func TestRingSenderGraceSeesLateConsume(t *testing.T) {
	if shm.RingRecvGrace() == 0 {
		t.Skipf("senders on %s keep no grace: receivers publish with sequentially consistent stores", runtime.GOARCH)
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no grace (a receiver's stores are visible once it is switched out)")
	}
	defer shm.SetRingFullSlice(time.Hour)()
	_, tx, rx, c := smallRings(t)
	if _, _, err := rx.TryReceive(nil); err != nil {
		t.Fatal(err) // attach the receiver
	}
	msg := make([]byte, 64)
	n := c / shm.RingRecordSize(len(msg))
	sendFixed(t, tx, len(msg), 0, uint32(n))
	if ok, err := tx.TrySend(msg); ok || err != nil {
		t.Fatalf("the ring should be full: ok=%v, %v", ok, err)
	}
	tx.SetSpin(0)
	var once sync.Once
	hooked := make(chan error, 1)
	defer shm.SetRingGraceHook(func() {
		once.Do(func() {
			_, err := shm.RingReceiveUnseen(rx)
			hooked <- err
		})
	})()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard, not a measure
	defer cancel()
	binary.LittleEndian.PutUint32(msg, uint32(n))
	if err := tx.Send(ctx, msg); err != nil {
		t.Fatalf("send: %v (the grace did not see the late room)", err)
	}
	select {
	case err := <-hooked:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("the send did not keep a grace")
	}
	for i := 1; i <= n; i++ {
		got, ok, err := rx.TryReceive(nil)
		if err != nil || !ok {
			t.Fatalf("message %d: ok=%v, %v", i, ok, err)
		}
		if v := binary.LittleEndian.Uint32(got); v != uint32(i) {
			t.Fatalf("message %d carries %d", i, v)
		}
	}
}
