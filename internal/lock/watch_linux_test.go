package lock

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/futex"
)

// TestWatchWakesOnDeath: with every sleep slice at an hour, only the
// watch on the holder can wake a waiter when the holder is killed. The
// waiter must take the mutex over within seconds, not an hour.
func TestWatchWakesOnDeath(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v): polling waiters wake by design", futex.Kind(), err)
	}
	withSlices(t, time.Hour)
	f, mem := sharedMem(t)
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Mechanism() != "ofd" {
		t.Skipf("owner mechanism %q has no kernel wait; waiters probe", o.Mechanism())
	}
	for round := range 5 {
		c := startChild(t, f, "holdanddie")
		c.expect(t, "locked")
		m, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), o)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got := make(chan error, 1)
		go func() { got <- m.Lock(ctx) }()
		// Sometimes kill before the waiter sleeps, sometimes after.
		time.Sleep(time.Duration(round*20) * time.Millisecond)
		killed := time.Now()
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.cmd.Wait()
		err := <-got
		cancel()
		if !errors.Is(err, ErrOwnerDead) {
			t.Fatalf("round %d: Lock after the holder was killed = %v, want ErrOwnerDead (the watch did not wake it)", round, err)
		}
		t.Logf("round %d: took over %v after the kill", round, time.Since(killed))
		atomic.StoreUint64(u64(mem, offPairB), atomic.LoadUint64(u64(mem, offPairA)))
		if err := m.MarkConsistent(); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWatchOwnerClosed: a holder that closes its owner while holding the
// mutex is dead to the others; the watch sees its token go.
func TestWatchOwnerClosed(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v)", futex.Kind(), err)
	}
	withSlices(t, time.Hour)
	f, mem := sharedMem(t)
	holderOwner, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	waiterOwner, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer waiterOwner.Close()
	h, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), holderOwner)
	w, _ := NewMutex(u32(mem, offMutex), u32(mem, offMutex+4), waiterOwner)
	if err := h.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() { got <- w.Lock(ctx) }()
	time.Sleep(50 * time.Millisecond)
	holderOwner.Close()
	if err := <-got; !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock after the holder closed its owner = %v, want ErrOwnerDead", err)
	}
	w.MarkConsistent()
	w.Unlock()
	key := watchKey{waiterOwner.lk.(waitLocker).file(), holderOwner.Token()}
	watches.Lock()
	left := watches.m[key]
	watches.Unlock()
	if left != nil {
		t.Errorf("the watch of the closed holder is still registered (state %d)", left.state.Load())
	}
}

// TestMarkHolderGone: the watch changes the word only while the token it
// watched holds it without goneBit.
func TestMarkHolderGone(t *testing.T) {
	for _, c := range []struct{ word, token, want uint32 }{
		{5 | waitersBit, 5, 5 | waitersBit | goneBit},
		{5, 5, 5 | goneBit},
		{5 | goneBit, 5, 5 | goneBit},
		{6 | waitersBit, 5, 6 | waitersBit},
		{0, 5, 0},
	} {
		w := c.word
		markHolderGone(&w, c.token)
		if w != c.want {
			t.Errorf("markHolderGone(%#x, %d) = %#x, want %#x", c.word, c.token, w, c.want)
		}
	}
}

// failingLocker is an ofd-like locker whose kernel wait fails.
type failingLocker struct {
	locker
	waits atomic.Int32
}

func (l *failingLocker) file() fileKey        { return fileKey{1, 1} }
func (l *failingLocker) waitFD() (int, error) { return -1, nil }
func (l *failingLocker) waitFree(int, uint32) error {
	l.waits.Add(1)
	return os.ErrInvalid
}

// TestWatchFailureFallsBack: when the kernel wait fails, the waiter goes
// back to probing every ProbeInterval, and no new wait is started for the
// same holder.
func TestWatchFailureFallsBack(t *testing.T) {
	f, _ := sharedMem(t)
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	fl := &failingLocker{locker: o.lk}
	o.lk = fl
	var word uint32
	w := o.watch(42, &word)
	if w == nil {
		t.Fatal("no watch started")
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.state.Load() != failed {
		if time.Now().After(deadline) {
			t.Fatal("the failing wait never ended")
		}
		time.Sleep(time.Millisecond)
	}
	w.leave(&word)
	if again := o.watch(42, &word); again != nil {
		t.Error("a watch was handed out for a holder whose wait failed")
	}
	if n := fl.waits.Load(); n != 1 {
		t.Errorf("%d kernel waits for one holder, want 1", n)
	}
	if o.watch(o.token, &word) != nil {
		t.Error("an owner watches its own token")
	}
}

// TestWatchCapIsPerProcess: the bound on watches holds for the whole
// process, not per owner, and owners of one process share the watch of a
// holder; closing the last owner that uses a watch ends its goroutine.
func TestWatchCapIsPerProcess(t *testing.T) {
	withMechanism(t, "ofd")
	f, _ := sharedMem(t)
	old := maxWatches
	maxWatches = 2
	t.Cleanup(func() { maxWatches = old })
	owner := func() *FileOwner {
		o, err := NewFileOwner(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		return o
	}
	h1, h2, h3 := owner(), owner(), owner()
	o1, o2 := owner(), owner()
	var w1, w2, w3 uint32
	a := o1.watch(h1.Token(), &w1)
	b := o2.watch(h2.Token(), &w2)
	if a == nil || b == nil {
		t.Fatal("no watch under the cap")
	}
	if c := o2.watch(h3.Token(), &w3); c != nil {
		t.Fatal("a third watch started with the process-wide cap at 2")
	}
	if shared := o2.watch(h1.Token(), &w3); shared != a {
		t.Fatal("two owners of the process watch one holder twice")
	}
	a.leave(&w1)
	a.leave(&w3)
	b.leave(&w2)
	o1.Close()
	select {
	case <-a.ended:
		t.Fatal("a watch ended while another owner still used it")
	default:
	}
	o2.Close()
	for _, w := range []*tokenWatch{a, b} {
		select {
		case <-w.ended:
		case <-time.After(30 * time.Second):
			t.Fatal("a watch did not end 30 s after its last owner closed")
		}
		if s := w.state.Load(); s != stopped {
			t.Errorf("watch state %d after its owners closed, want stopped", s)
		}
	}
}

// TestWatchRewakesMarkedWord: when goneBit is already set as the holder
// dies (an earlier watch marked the word and no take-over cleared it),
// the watch cannot change the word, so a waiter that read it before the
// death and goes to sleep after the watch's first wake-up would sleep its
// whole slice; the watch must keep waking it until it leaves. The slices
// are an hour and each sleep here is bounded by two minutes, so a missed
// wake-up fails the test (as a timeout of that sleep) instead of hanging
// it; nothing is timed.
func TestWatchRewakesMarkedWord(t *testing.T) {
	if err := futex.Available(); err != nil || futex.Kind() == "poll" {
		t.Skipf("futex mode only (kind %q, %v): polling waiters wake by design", futex.Kind(), err)
	}
	withSlices(t, time.Hour)
	f, mem := sharedMem(t)
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Mechanism() != "ofd" {
		t.Skipf("owner mechanism %q has no kernel wait; waiters probe", o.Mechanism())
	}
	c := startChild(t, f, "holdanddie")
	c.expect(t, "locked")
	word := u32(mem, offMutex)
	v := atomic.OrUint32(word, goneBit) | goneBit // as an earlier watch left it
	w := o.watch(v&tokenMask, word)
	if w == nil {
		t.Fatal("no watch of the holder")
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	waitFor(t, w.isReleased)
	// A waiter that read v before the death sleeps only now, once and
	// again: the watch's first wake-up may have come before either.
	for i := range 2 {
		if err := futex.Wait(word, v, time.Now().Add(2*time.Minute)); errors.Is(err, futex.ErrTimeout) {
			t.Fatalf("sleep %d on the marked word of a dead holder was not woken", i)
		}
	}
	if got := atomic.LoadUint32(word); got != v {
		t.Fatalf("word %#x, want %#x unchanged", got, v)
	}
	w.leave(word)

	// Lock starts a new watch of the dead holder, which fires at once,
	// with the word marked already: the take-over must not wait for the
	// hour-long slice either.
	m, _ := NewMutex(word, u32(mem, offMutex+4), o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Lock(ctx); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock over the dead, marked holder = %v, want ErrOwnerDead", err)
	}
	if got := atomic.LoadUint32(word); got&goneBit != 0 || got&tokenMask != o.Token() {
		t.Fatalf("word %#x after the take-over, want our token %#x without goneBit", got, o.Token())
	}
	atomic.StoreUint64(u64(mem, offPairB), atomic.LoadUint64(u64(mem, offPairA)))
	if err := m.MarkConsistent(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}
