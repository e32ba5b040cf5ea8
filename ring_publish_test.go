package shm_test

import (
	"context"
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
