//go:build unix || windows

package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/futex"
)

// The wake pair: the floor under the ring's asleep and paused round trips.
// Its child sleeps in the system's wait on an address (internal/futex:
// futex, umtx or ulock) between rounds; a round stores the round's number
// in a word of shared memory, wakes the child with one system call, and
// waits until the child has copied the number to a second word: spinning
// up to wakeSpin (the most a ring's adaptive spin spends), then asleep in
// the same wait, woken by the child. No ring, no message, no copy: what
// is left is what waking a process asleep in that wait costs on this
// machine, measured in the same minutes as the ring's rows. (Spinning
// without end made it no floor: when the kernel woke the child on the
// spinning parent's CPU, the child waited for the parent's time slice to
// end, and the p99 of the paused row was 3 ms. For the same reason its
// spin yields the CPU, as the ring's does after a wake-up.)

// The words of the wake pair's object, on lines of their own.
const (
	wakePing  = 0   // the round's number, or wakeStop
	wakePong  = 64  // the number the child copied
	wakeSleep = 128 // 1 while the parent sleeps on the pong word
	wakeStop  = ^uint32(0)
	wakeSpin  = 50 * time.Microsecond
)

// wakeWhy says why the wake pair cannot run here, or "" when it can.
func wakeWhy() string {
	if err := futex.Available(); err != nil {
		return fmt.Sprintf("no kernel wait on an address here (%v)", err)
	}
	if futex.Kind() == "poll" {
		return "waits poll instead of sleeping in the kernel (SHMDEBUG=futex=poll)"
	}
	return ""
}

// wakeWord returns the 32-bit word at off in m.
func wakeWord(m *shm.Mapping, off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&m.Bytes()[off]))
}

// wakePinger plays the wake pair's rounds with a child (wakeChild).
func (b *bencher) wakePinger() (*pinger, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return nil, err
	}
	m, err := o.Map()
	if err != nil {
		o.Close()
		return nil, err
	}
	cmd := b.child("wake")
	if err := shm.Pass(cmd, "bench", o); err != nil {
		m.Close()
		o.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	ping, pong, sleeping := wakeWord(m, wakePing), wakeWord(m, wakePong), wakeWord(m, wakeSleep)
	var seq uint32
	p := childPinger(cmd, func() error {
		atomic.StoreUint32(ping, wakeStop)
		return futex.Wake(ping, 1)
	}, func() { m.Close(); o.Close(); cancel() })
	p.round = func() error {
		if seq++; seq == wakeStop {
			seq = 1
		}
		atomic.StoreUint32(ping, seq)
		if err := futex.Wake(ping, 1); err != nil {
			return err
		}
		// The ring's and the locks' spin after a wake-up yields the
		// CPU, in case the child was queued on it (internal/futex's
		// yield.go); so does this one, or it would be no floor.
		futex.Yield()
		t0 := time.Now()
		for i := 1; atomic.LoadUint32(pong) != seq; i++ {
			if i&63 == 0 {
				if time.Since(t0) > wakeSpin {
					return wakeSleepFor(ctx, pong, sleeping, seq)
				}
				futex.Yield()
			}
		}
		return nil
	}
	return p, nil
}

// wakeSleepFor sleeps until the pong word holds seq. The child stores
// the word, then reads the sleeping word; this process stores that, then
// reads the pong word: one of the two sees the other's store.
func wakeSleepFor(ctx context.Context, pong, sleeping *uint32, seq uint32) error {
	atomic.StoreUint32(sleeping, 1)
	defer atomic.StoreUint32(sleeping, 0)
	for {
		v := atomic.LoadUint32(pong)
		if v == seq {
			return nil
		}
		err := futex.Wait(pong, v, time.Now().Add(time.Second))
		if errors.Is(err, futex.ErrTimeout) {
			err = ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("wake pair: no echo of round %d: %w", seq, err)
		}
	}
}

// wakeChild is the child of the wake pair: it sleeps until the ping word
// changes, copies it to the pong word (waking the parent if it sleeps),
// and returns when it reads wakeStop. Its waits end every second to look at ctx.
func wakeChild(ctx context.Context) error {
	m, done, err := inheritedBenchMapping()
	if err != nil {
		return err
	}
	defer done()
	ping, pong, sleeping := wakeWord(m, wakePing), wakeWord(m, wakePong), wakeWord(m, wakeSleep)
	var last uint32
	for {
		v := atomic.LoadUint32(ping)
		if v == last {
			err := futex.Wait(ping, last, time.Now().Add(time.Second))
			if errors.Is(err, futex.ErrTimeout) {
				err = ctx.Err()
			}
			if err != nil {
				return err
			}
			continue
		}
		if v == wakeStop {
			return nil
		}
		last = v
		atomic.StoreUint32(pong, v)
		if atomic.LoadUint32(sleeping) != 0 {
			if err := futex.Wake(pong, 1); err != nil {
				return err
			}
		}
	}
}
