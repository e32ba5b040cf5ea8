package shm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// ringOn attaches the ring at [0, n) through a new Mapping of o: a handle
// with a liveness token of its own, as another process's would have.
func ringOn(t *testing.T, o *shm.Object, n int) (*shm.Mapping, *shm.Ring) {
	t.Helper()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	r, err := m.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return m, r
}

func wantBusy(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, shm.ErrRingBusy) {
		t.Fatalf("%s: %v, want ErrRingBusy", what, err)
	}
}

func exclusiveStats(t *testing.T, r *shm.Ring) shm.RingStats {
	t.Helper()
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRingExclusive: an exclusive sender keeps every other sender out
// while it sends, and only while; its messages (copied, reserved, across
// the wrap) arrive in order.
func TestRingExclusive(t *testing.T) {
	n := shm.RingSize(ringProcMax, 8)
	o, _ := newAnonMapping(t, n)
	_, rx := ringOn(t, o, n)
	ma, a := ringOn(t, o, n)
	_, b := ringOn(t, o, n)
	_, c := ringOn(t, o, n)

	if err := a.OpenSendExclusive(); err != nil {
		t.Fatal(err)
	}
	if err := a.OpenSendExclusive(); err != nil {
		t.Fatalf("again: %v", err)
	}
	if st := exclusiveStats(t, rx); !st.Exclusive || st.Senders != 1 {
		t.Fatalf("stats %+v, want one exclusive sender", st)
	}
	wantBusy(t, "OpenSend beside an exclusive sender", b.OpenSend())
	_, err := b.TrySend([]byte("x"))
	wantBusy(t, "TrySend beside an exclusive sender", err)
	wantBusy(t, "a second OpenSendExclusive", c.OpenSendExclusive())
	// Another handle of the exclusive sender's Mapping has its token.
	a2, err := ma.Ring(0, n)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	wantBusy(t, "OpenSend through the exclusive sender's Mapping", a2.OpenSend())
	wantBusy(t, "OpenSendExclusive through the exclusive sender's Mapping", a2.OpenSendExclusive())
	if st := exclusiveStats(t, rx); st.Senders != 1 {
		t.Fatalf("refused senders hold slots: %+v", st)
	}

	// Messages, several laps of the ring: Send, and Reserve with Commit
	// (some shorter than reserved).
	ctx := testCtx(t)
	done := make(chan error, 1)
	const count = 200
	go func() {
		var buf []byte
		for i := range uint32(count) {
			buf = seqMessage(buf, 1, i, ringProcMax)
			if i%3 == 2 {
				res, err := a.Reserve(ctx, ringProcMax)
				if err != nil {
					done <- err
					return
				}
				if err := a.Commit(copy(res, buf)); err != nil {
					done <- err
					return
				}
				continue
			}
			if err := a.Send(ctx, buf); err != nil {
				done <- err
				return
			}
		}
		done <- a.CloseSend()
	}()
	got, err := receiveAll(ctx, rx)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got[1] != count {
		t.Fatalf("received %d of %d messages", got[1], count)
	}
	if st := exclusiveStats(t, rx); st.Exclusive || st.Senders != 0 {
		t.Fatalf("after CloseSend: %+v", st)
	}

	// The word is free: a plain sender registers, and keeps an exclusive
	// one out.
	if err := b.OpenSend(); err != nil {
		t.Fatalf("OpenSend after the exclusive sender closed: %v", err)
	}
	wantBusy(t, "OpenSendExclusive beside a live sender", c.OpenSendExclusive())
	if st := exclusiveStats(t, rx); st.Exclusive || st.Senders != 1 {
		t.Fatalf("a refused exclusive sender left a trace: %+v", st)
	}
	if err := b.CloseSend(); err != nil {
		t.Fatal(err)
	}
	// A handle that sent becomes exclusive; Close ends it.
	if _, err := c.TrySend([]byte("plain")); err != nil {
		t.Fatal(err)
	}
	if err := c.OpenSendExclusive(); err != nil {
		t.Fatalf("OpenSendExclusive after sending: %v", err)
	}
	if _, err := c.TrySend([]byte("exclusive")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if st := exclusiveStats(t, rx); st.Exclusive || st.Senders != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	if err := a2.OpenSendExclusive(); err != nil {
		t.Fatalf("OpenSendExclusive once the others closed: %v", err)
	}
	for _, want := range []string{"plain", "exclusive"} {
		msg, ok, err := rx.TryReceive(nil)
		if err != nil || !ok || string(msg) != want {
			t.Fatalf("got %q, %v, %v; want %q", msg, ok, err, want)
		}
	}
}

// TestRingExclusiveRace: handles with tokens of their own register at the
// same moment, some exclusive: either one exclusive sender wins and no
// other sender registers, or no exclusive one does.
func TestRingExclusiveRace(t *testing.T) {
	const handles = 4
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	n := shm.RingSize(16, 4)
	o, err := shm.CreateAnon(int64(n * rounds))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var ms [handles]*shm.Mapping
	for i := range ms {
		if ms[i], err = o.Map(); err != nil {
			t.Fatal(err)
		}
		defer ms[i].Close()
	}
	won := map[string]int{}
	for round := range rounds {
		var rs [handles]*shm.Ring
		for i := range rs {
			if rs[i], err = ms[i].Ring(round*n, n); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [handles]error
		)
		for i := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					errs[i] = rs[i].OpenSendExclusive()
				} else {
					errs[i] = rs[i].OpenSend()
				}
			}()
		}
		close(start)
		wg.Wait()
		excl, plain := 0, 0
		for i, err := range errs {
			switch {
			case err == nil && i%2 == 0:
				excl++
			case err == nil:
				plain++
			case !errors.Is(err, shm.ErrRingBusy):
				t.Fatalf("round %d, handle %d: %v", round, i, err)
			}
		}
		if excl > 1 || excl == 1 && plain > 0 {
			t.Fatalf("round %d: %d exclusive and %d other senders registered (%v)", round, excl, plain, errs)
		}
		st := exclusiveStats(t, rs[0])
		if st.Exclusive != (excl == 1) || st.Senders != excl+plain {
			t.Fatalf("round %d: stats %+v with %d exclusive and %d other senders", round, st, excl, plain)
		}
		won[strconv.Itoa(excl)+" exclusive, "+strconv.Itoa(plain)+" other"]++
		for _, r := range rs {
			r.Close()
		}
	}
	t.Logf("outcomes over %d rounds: %v", rounds, won)
}

// TestRingExclusiveSenderKills: exclusive sender processes killed, most
// between Reserve and Commit, one after the other (half of them send
// through a RingSender, and the receiver receives through a
// RingReceiver): each next one takes the ring over from the dead one, no
// other sender gets in while one lives, and the receiver skips what the
// dead left, receiving every message of the last one, exactly once and in
// order.
func TestRingExclusiveSenderKills(t *testing.T) {
	const last = 1000
	kills := 40
	if testing.Short() || raceEnabled {
		kills = 10
	}
	o, _, rx := newRingObject(t)
	_, other := ringOn(t, o, ringProcN)
	type result struct {
		got map[uint32]uint32
		err error
	}
	// Between a death and the next start no sender lives, and the
	// receiver may see the end: it then waits for the next start.
	res := make(chan result, 1)
	started := make(chan struct{}, kills+1)
	go func() {
		// The receiver takes its side for this goroutine (ring_lease.go).
		lrx, err := rx.Receiver(context.Background())
		if err != nil {
			res <- result{nil, err}
			return
		}
		defer lrx.Close()
		got := map[uint32]uint32{}
		for {
			part, err := receiveAll(context.Background(), lrx)
			for s, c := range part {
				if c > 0 && got[s] > 0 {
					err = fmt.Errorf("sender %d: %d messages after an end, the first of them again", s, c)
				}
				got[s] += c
			}
			if err != nil || got[1] == last {
				res <- result{got, err}
				return
			}
			<-started
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	hung := 0
	for k := range kills {
		id := strconv.Itoa(100 + k)
		// Half the victims send through a RingSender.
		opts := "exclusive"
		if k%2 == 1 {
			opts = "exclusive,lease"
		}
		var v *ringProc
		if k%4 != 3 {
			v = startRingChild(t, o, "ring-send", id, "hang", strconv.Itoa(rng.IntN(5)), opts)
			if l := v.line(t); l != "r" {
				t.Fatalf("victim said %q", l)
			}
			hung++
		} else {
			v = startRingChild(t, o, "ring-send", id, "forever", "0", opts)
			if l := v.line(t); l != "s" {
				t.Fatalf("victim said %q", l)
			}
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		}
		started <- struct{}{}
		wantBusy(t, "OpenSend beside a live exclusive sender process", other.OpenSend())
		v.kill(t)
	}
	p := startRingChild(t, o, "ring-send", "1", "count", strconv.Itoa(last), "exclusive,lease")
	started <- struct{}{}
	p.wait(t)
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.got[1] != last {
		t.Errorf("the last exclusive sender: received %d of %d messages", r.got[1], last)
	}
	st, err := rx.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Lost < uint64(hung) {
		t.Errorf("%d records lost, want at least the %d reservations of killed senders", st.Lost, hung)
	}
	if st.Exclusive || st.Senders != 0 {
		t.Errorf("after the last sender: %+v", st)
	}
	// The word of a dead holder is free for a plain sender too.
	v := startRingChild(t, o, "ring-send", "2", "hang", "0", "exclusive")
	if l := v.line(t); l != "r" {
		t.Fatalf("victim said %q", l)
	}
	v.kill(t)
	if err := other.OpenSend(); err != nil {
		t.Fatalf("OpenSend after the exclusive sender died: %v", err)
	}
	t.Logf("%d kills (%d holding a reservation); %d records lost", kills, hung, st.Lost)
}
