package shm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("ring-spin-echo", ringSpinEchoChild)
}

// spinPair returns two handles of a fresh ring of 64-byte messages: rx,
// attached as its receiver and spinning as SetSpin(spin) says, and tx to
// send with; both are closed when the test ends.
func spinPair(t *testing.T, spin time.Duration) (rx, tx *shm.Ring) {
	t.Helper()
	m, rx := newRing(t, shm.RingSize(64, 4))
	tx, err := m.Ring(0, shm.RingSize(64, 4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Close() })
	rx.SetSpin(spin)
	if _, _, err := rx.TryReceive(nil); err != nil { // attach
		t.Fatal(err)
	}
	return rx, tx
}

// TestRingSetSpin: SetSpin(0) makes a waiting Receive sleep without
// spinning; the default and a positive budget spin first.
func TestRingSetSpin(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no ring call spins, whatever SetSpin says")
	}
	var spins atomic.Int32
	defer shm.SetRingSpinHook(func() { spins.Add(1) })()
	for _, c := range []struct {
		name  string
		spin  time.Duration
		spins bool
	}{
		{"never", 0, false},
		{"default", -1, true},
		{"fixed", time.Millisecond, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rx, tx := spinPair(t, c.spin)
			spins.Store(0)
			got := receiveHello(rx)
			// The receiver says it sleeps once its spin (if any) is over.
			for !shm.RingReceiverSleeps(rx) {
				runtime.Gosched()
			}
			if err := tx.Send(context.Background(), []byte("hello")); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}
			if n := spins.Load(); (n > 0) != c.spins {
				t.Fatalf("SetSpin(%v): the waiting Receive spun %d times, want spinning %v", c.spin, n, c.spins)
			}
		})
	}
}

// TestRingSpinNoWakeups: two processes play 2000 round trips over two
// rings, both with SetSpin(an hour): neither ever sleeps, so neither
// ring's receiver wake word moves. With SetSpin(0) the same game puts
// the receivers to sleep, which the wake words count.
func TestRingSpinNoWakeups(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no ring call spins, whatever SetSpin says")
	}
	for _, c := range []struct {
		name string
		spin time.Duration
	}{{"spin", time.Hour}, {"sleep", 0}} {
		t.Run(c.name, func(t *testing.T) {
			const rounds = 2000
			n := shm.RingSize(64, 8)
			o, m := newAnonMapping(t, 2*n)
			ping, err := m.Ring(0, n)
			if err != nil {
				t.Fatal(err)
			}
			defer ping.Close()
			pong, err := m.Ring(n, n)
			if err != nil {
				t.Fatal(err)
			}
			defer pong.Close()
			ping.SetSpin(c.spin)
			pong.SetSpin(c.spin)
			if _, _, err := pong.TryReceive(nil); err != nil { // attach
				t.Fatal(err)
			}
			p := startRingChild(t, o, "ring-spin-echo", strconv.Itoa(n), c.spin.String())
			ctx := context.Background()
			buf := make([]byte, 0, 64)
			// A first round waits for the child to start, which may take
			// longer than a spin may last (the receiver's 5 s slice, under
			// an emulator); the count starts after it.
			if err := ping.Send(ctx, []byte("start")); err != nil {
				t.Fatal(err)
			}
			if buf, err = pong.Receive(ctx, buf); err != nil || string(buf) != "start" {
				t.Fatalf("first echo %q, %v", buf, err)
			}
			w0, w1 := shm.RingReceiverWakes(ping), shm.RingReceiverWakes(pong)
			for i := range rounds {
				msg := []byte(strconv.Itoa(i))
				if err := ping.Send(ctx, msg); err != nil {
					t.Fatal(err)
				}
				if buf, err = pong.Receive(ctx, buf); err != nil {
					t.Fatal(err)
				}
				if string(buf) != string(msg) {
					t.Fatalf("round %d: echo %q", i, buf)
				}
			}
			d0, d1 := shm.RingReceiverWakes(ping)-w0, shm.RingReceiverWakes(pong)-w1
			if err := ping.CloseSend(); err != nil {
				t.Fatal(err)
			}
			p.wait(t)
			t.Logf("SetSpin(%v): %d rounds, %d wake-ups of the echoing child, %d of this process", c.spin, rounds, d0, d1)
			switch {
			case c.spin > 0 && d0+d1 != 0:
				t.Fatalf("spinning an hour, the receivers were woken %d and %d times", d0, d1)
			case c.spin == 0 && d0+d1 == 0:
				// Neither side spins: a side that finds its ring empty
				// sleeps at once, which happens in most rounds (the log
				// shows the counts).
				t.Fatalf("never spinning, neither receiver was woken in %d rounds", rounds)
			}
		})
	}
}

// ringSpinEchoChild echoes what comes on the ring at 0 onto the ring at
// n, both with SetSpin(args[1]), until the end of the input.
func ringSpinEchoChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	d, err := time.ParseDuration(args[1])
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	if err != nil {
		return fail(err)
	}
	o, m, rs, err := childRings("ring", n, 2)
	if err != nil {
		return fail(err)
	}
	defer o.Close()
	defer m.Close()
	in, out := rs[0], rs[1]
	in.SetSpin(d)
	out.SetSpin(d)
	ctx := context.Background()
	var buf []byte
	for {
		buf, err = in.Receive(ctx, buf)
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil {
			return fail(err)
		}
		if err := out.Send(ctx, buf); err != nil {
			return fail(err)
		}
	}
}

// TestRingSpinOneP: with GOMAXPROCS 1, a spinning Receive lets the
// goroutine that will send run at its first time checks: the message
// comes within a few hundred looks, not after the spin, nor after the
// runtime's preemption of the spinner (10 ms, hundreds of thousands of
// looks).
func TestRingSpinOneP(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: no ring call spins")
	}
	rx, tx := spinPair(t, time.Minute)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var looks atomic.Int64
	spinning := make(chan struct{})
	defer shm.SetRingLookHook(func() {
		if looks.Add(1) == 1 {
			close(spinning)
		}
	})()
	got := receiveHello(rx)
	<-spinning // runs once the spinner gives up the only P
	if err := tx.Send(context.Background(), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// Within a few checks (64 looks each): the scheduler takes the
	// global run queue, where Gosched put the spinner, first at one
	// pick in 61.
	if n := looks.Load(); n > 8*64 {
		t.Fatalf("the spin looked %d times before the sender ran; a spin's time check every 64 looks should have let it run", n)
	}
	t.Logf("received after %d looks", looks.Load())
}

// receiveHello receives one message from rx on a goroutine of its own and
// sends the outcome on the channel it returns: nil when the message was
// "hello".
func receiveHello(rx *shm.Ring) <-chan error {
	got := make(chan error, 1)
	go func() {
		msg, err := rx.Receive(context.Background(), nil)
		if err == nil && string(msg) != "hello" {
			err = fmt.Errorf("received %q", msg)
		}
		got <- err
	}()
	return got
}
