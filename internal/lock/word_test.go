package lock

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func TestSemaphoreWordLayout(t *testing.T) {
	var w uint64
	half := semValueHalf(&w)
	atomic.AddUint64(&w, 5)
	atomic.AddUint64(&w, 3*semOneWaiter)
	if got := atomic.LoadUint32(half); got != 5 {
		t.Fatalf("value half reads %d, want 5 (bigEndian=%v)", got, bigEndian)
	}
	d := atomic.LoadUint64(&w)
	if semValue(d) != 5 || semWaiters(d) != 3 {
		t.Fatalf("semValue, semWaiters = %d, %d; want 5, 3", semValue(d), semWaiters(d))
	}
	atomic.StoreUint32(half, 9)
	if d := atomic.LoadUint64(&w); semValue(d) != 9 || semWaiters(d) != 3 {
		t.Fatalf("after storing 9 in the half: value %d waiters %d", semValue(d), semWaiters(d))
	}
	// The value half is the one whose address is the word's address on
	// little-endian machines.
	if !bigEndian && unsafe.Pointer(half) != unsafe.Pointer(&w) {
		t.Fatal("value half is not at offset 0 on a little-endian machine")
	}
}

func TestMutexWordBits(t *testing.T) {
	if waitersBit&tokenMask != 0 || goneBit&tokenMask != 0 || waitersBit&goneBit != 0 {
		t.Fatal("mutex word fields overlap")
	}
	if uint64(waitersBit|goneBit|tokenMask) != 1<<32-1 {
		t.Fatal("mutex word fields do not cover 32 bits")
	}
	if MaxToken != 1<<30-1 {
		t.Fatalf("MaxToken = %#x", MaxToken)
	}
}

// fakeOwner is an Owner whose liveness the test decides.
type fakeOwner struct {
	token uint32
	dead  map[uint32]bool
	err   error
}

func (o *fakeOwner) Token() uint32 { return o.token }
func (o *fakeOwner) Alive(t uint32) (bool, error) {
	if o.err != nil {
		return false, o.err
	}
	return t == o.token || !o.dead[t], nil
}

func TestNewMutexValidates(t *testing.T) {
	var words [4]uint32
	odd := (*uint32)(unsafe.Add(unsafe.Pointer(&words[0]), 2))
	good := &fakeOwner{token: 7}
	for name, c := range map[string]struct {
		w, s *uint32
		o    Owner
	}{
		"nil word":      {nil, &words[1], good},
		"nil state":     {&words[0], nil, good},
		"misaligned":    {odd, &words[2], good},
		"nil owner":     {&words[0], &words[1], nil},
		"zero token":    {&words[0], &words[1], &fakeOwner{token: 0}},
		"token too big": {&words[0], &words[1], &fakeOwner{token: MaxToken + 1}},
	} {
		if _, err := NewMutex(c.w, c.s, c.o); err == nil {
			t.Errorf("%s: NewMutex succeeded", name)
		}
	}
	var w8 [2]uint64
	if _, err := NewSemaphore((*uint64)(unsafe.Add(unsafe.Pointer(&w8[0]), 4))); err == nil {
		t.Error("NewSemaphore accepted a misaligned word")
	}
	if _, err := NewSemaphore(nil); err == nil {
		t.Error("NewSemaphore accepted nil")
	}
}

func TestMutexInProcess(t *testing.T) {
	var words [2]uint32
	a, _ := NewMutex(&words[0], &words[1], &fakeOwner{token: 1})
	b, _ := NewMutex(&words[0], &words[1], &fakeOwner{token: 2})
	ctx := context.Background()
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if words[0] != 1 {
		t.Fatalf("word after uncontended Lock = %#x, want the token", words[0])
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a held mutex = %v, %v", ok, err)
	}
	if err := b.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Unlock by a non-holder = %v, want ErrNotHeld", err)
	}
	if err := b.MarkConsistent(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("MarkConsistent by a non-holder = %v, want ErrNotHeld", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := b.Lock(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held mutex with a deadline = %v", err)
	}
	if words[0]&waitersBit == 0 {
		t.Fatal("a waiter that gave up left WAITERS clear while the mutex is held")
	}
	if err := a.MarkConsistent(); err != nil {
		t.Fatalf("MarkConsistent on a consistent mutex: %v", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if words[0] != 0 {
		t.Fatalf("word after Unlock = %#x", words[0])
	}
	if err := a.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("second Unlock = %v, want ErrNotHeld", err)
	}
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock of a free mutex = %v, %v", ok, err)
	}
	if err := b.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// TestMutexTakeOver exercises owner death with a fake owner: the dead
// holder's token stays in the word.
func TestMutexTakeOver(t *testing.T) {
	for _, try := range []bool{false, true} {
		var words [2]uint32
		words[0] = 5 | goneBit // held by token 5, which is dead (and a watch marked it)
		o := &fakeOwner{token: 9, dead: map[uint32]bool{5: true}}
		m, _ := NewMutex(&words[0], &words[1], o)
		var err error
		if try {
			var ok bool
			ok, err = m.TryLock()
			if !ok {
				t.Fatalf("TryLock over a dead holder = false, %v", err)
			}
		} else {
			err = m.Lock(context.Background())
		}
		if !errors.Is(err, ErrOwnerDead) {
			t.Fatalf("acquiring over a dead holder: %v, want ErrOwnerDead", err)
		}
		if words[0]&tokenMask != 9 || words[0]&goneBit != 0 || words[1] != stateInconsistent {
			t.Fatalf("after take-over: word %#x state %d", words[0], words[1])
		}
		if try { // repair
			if err := m.MarkConsistent(); err != nil {
				t.Fatal(err)
			}
			if words[0]&tokenMask != 9 || words[1] != stateConsistent {
				t.Fatalf("after MarkConsistent: word %#x state %d", words[0], words[1])
			}
			if err := m.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := m.Lock(context.Background()); err != nil {
				t.Fatalf("Lock after repair: %v", err)
			}
			m.Unlock()
			continue
		}
		// No repair: not recoverable from now on.
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := m.Lock(context.Background()); !errors.Is(err, ErrNotRecoverable) {
			t.Fatalf("Lock after an unrepaired Unlock = %v, want ErrNotRecoverable", err)
		}
		if ok, err := m.TryLock(); ok || !errors.Is(err, ErrNotRecoverable) {
			t.Fatalf("TryLock after an unrepaired Unlock = %v, %v", ok, err)
		}
		if words[0] != 0 {
			t.Fatalf("a not-recoverable Lock left the word %#x", words[0])
		}
	}
}

func TestMutexAliveError(t *testing.T) {
	var words [2]uint32
	words[0] = 5
	boom := errors.New("probe failed")
	m, _ := NewMutex(&words[0], &words[1], &fakeOwner{token: 9, err: boom})
	if ok, err := m.TryLock(); ok || !errors.Is(err, boom) {
		t.Fatalf("TryLock with a failing probe = %v, %v", ok, err)
	}
}

func TestSemaphoreInProcess(t *testing.T) {
	var w uint64
	s, err := NewSemaphore(&w)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.TryWait(); ok {
		t.Fatal("TryWait on 0 succeeded")
	}
	for range 3 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
	}
	if value(s) != 3 {
		t.Fatalf("Value = %d", value(s))
	}
	if err := s.Wait(context.Background()); err != nil || value(s) != 2 {
		t.Fatalf("Wait = %v, Value = %d", err, value(s))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.Wait(ctx) != nil { // a token is there: no need to look at ctx
		t.Fatal("Wait with a token and a cancelled context failed")
	}
	s.TryWait()
	if err := s.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(cancelled) on 0 = %v", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	deadline, _ := dctx.Deadline()
	if err := s.Wait(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a deadline on 0 = %v", err)
	}
	// Measured against the context's own deadline: a clock read after
	// WithTimeout starts late, so "20ms since then" could fail a Wait
	// that returned exactly on time.
	if early := time.Until(deadline); early > 0 {
		t.Fatalf("Wait returned %v before its deadline", early)
	}
	if s.Waiters() != 0 {
		t.Fatalf("a waiter that gave up is still registered: %d", s.Waiters())
	}
	atomic.StoreUint64(&w, SemValueMax)
	if err := s.Post(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Post at the maximum = %v", err)
	}
}

// TestSemaphoreWakesSleeper checks the sleeping path in one process.
func TestSemaphoreWakesSleeper(t *testing.T) {
	var w uint64
	s, _ := NewSemaphore(&w)
	done := make(chan error)
	go func() { done <- s.Wait(context.Background()) }()
	for s.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sleeper not woken")
	}
	if d := atomic.LoadUint64(&w); d != 0 {
		t.Fatalf("word after the wait = %#x, want 0", d)
	}
}

// value returns s's value, or -1 if it cannot be read.
func value(s *Semaphore) int {
	v, err := s.Value()
	if err != nil {
		return -1
	}
	return v
}
