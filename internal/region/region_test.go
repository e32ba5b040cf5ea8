package region

import (
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
)

func TestAcquireAfterClose(t *testing.T) {
	var mem [16]uint32
	r := New(unsafe.Pointer(&mem[0]), len(mem)*4)
	base, err := r.Acquire()
	if err != nil || base != unsafe.Pointer(&mem[0]) {
		t.Fatalf("Acquire = %p, %v", base, err)
	}
	r.Release()
	if r.Err() != nil {
		t.Fatal("Err before Close")
	}
	r.Close()
	r.Close() // idempotent
	if _, err := r.Acquire(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
	if !errors.Is(r.Err(), fs.ErrClosed) {
		t.Fatal("Err after Close is not fs.ErrClosed")
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
}

// TestCloseWaitsForOperations: Close returns only after the operation
// inside has released, and fast calls are refused after that.
func TestCloseWaitsForOperations(t *testing.T) {
	var mem [2]uint32
	r := New(unsafe.Pointer(&mem[0]), 8)
	if _, err := r.Acquire(); err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	closed := make(chan struct{})
	go func() {
		r.Close()
		if !released.Load() {
			t.Error("Close returned while an operation was inside")
		}
		close(closed)
	}()
	<-r.Done() // Close has begun: new operations fail
	if _, err := r.Acquire(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Acquire while closing: %v", err)
	}
	released.Store(true)
	r.Release()
	<-closed
	if r.Fast() != nil {
		t.Fatal("Fast gave a base after Close")
	}
}

// TestCloseWakesSleepers: an operation asleep on a registered word is
// woken by Close, even when it went to sleep after the first wake-up.
func TestCloseWakesSleepers(t *testing.T) {
	var mem [2]uint32
	r := New(unsafe.Pointer(&mem[0]), 8)
	res := make(chan error, 1)
	go func() {
		base, err := r.Acquire()
		if err != nil {
			res <- err
			return
		}
		defer r.Release()
		word := (*uint32)(base)
		stop := r.WakeOnClose(word)
		defer stop()
		for r.Err() == nil {
			var deadline time.Time // none: only a wake-up ends the sleep
			if futex.Kind() == "poll" {
				deadline = time.Now().Add(5 * time.Millisecond) // polling sees no wake-up
			}
			if err := futex.Wait(word, 0, deadline); err != nil && !errors.Is(err, futex.ErrTimeout) {
				res <- err
				return
			}
		}
		res <- r.Err()
	}()
	for r.Sleepers() == 0 {
		time.Sleep(time.Millisecond)
	}
	r.Close()
	if err := <-res; !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("sleeper returned %v", err)
	}
	if n := r.Sleepers(); n != 0 {
		t.Fatalf("%d sleepers registered after Close", n)
	}
}

// TestConcurrentAcquireClose: many goroutines enter and leave while
// several Close at once; no operation is inside once any Close returns.
func TestConcurrentAcquireClose(t *testing.T) {
	for range 200 {
		var mem [2]uint32
		r := New(unsafe.Pointer(&mem[0]), 8)
		var inside atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				for {
					base, err := r.Acquire()
					if err != nil {
						return
					}
					inside.Add(1)
					atomic.AddUint32((*uint32)(base), 1)
					inside.Add(-1)
					r.Release()
				}
			})
		}
		close(start)
		var cw sync.WaitGroup
		for range 3 {
			cw.Go(func() {
				r.Close()
				if n := inside.Load(); n != 0 {
					t.Errorf("%d operations inside after Close returned", n)
				}
			})
		}
		cw.Wait()
		wg.Wait()
	}
}
