package shm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

func init() { registerHelper("sem-pong", semPongChild) }

func TestSemaphoreAttachErrors(t *testing.T) {
	o, m := lockObject(t)
	for _, off := range []int{4, -8, 4096, 4092} {
		if _, err := m.Semaphore(off); err == nil {
			t.Errorf("Semaphore(%d) succeeded", off)
		}
	}
	r, err := o.MapReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Semaphore(0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Semaphore on a read-only mapping: %v, want ErrPermission", err)
	}
}

func TestSemaphoreBasics(t *testing.T) {
	_, m := lockObject(t)
	s, err := m.Semaphore(8)
	if err != nil {
		t.Fatal(err)
	}
	if semValue(t, s) != 0 || tryWait(t, s) {
		t.Fatal("a zeroed semaphore is not empty")
	}
	for range 2 {
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
	}
	if !tryWait(t, s) || s.Wait(context.Background()) != nil || semValue(t, s) != 0 {
		t.Fatalf("taking two tokens failed; value %d", semValue(t, s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on an empty semaphore with a deadline: %v", err)
	}
	// The largest value: 2^31-1, stored little- or big-endian in the word.
	full, _ := m.Semaphore(16)
	for range 3 {
		full.Post()
	}
	b := m.Bytes()[16:24]
	if b[0] != 3 && b[7] != 3 {
		t.Fatalf("value 3 not in the word's value half: % x", b)
	}
	little := b[0] == 3
	fill := func(v uint32) {
		for i := range 4 {
			if little {
				b[i] = byte(v >> (8 * i))
			} else {
				b[7-i] = byte(v >> (8 * i))
			}
		}
	}
	fill(1<<31 - 1)
	if semValue(t, full) != 1<<31-1 {
		t.Fatalf("Value = %d after filling the value half", semValue(t, full))
	}
	if err := full.Post(); !errors.Is(err, shm.ErrOverflow) || semValue(t, full) != 1<<31-1 {
		t.Fatalf("Post at the maximum = %v, value %d", err, semValue(t, full))
	}
}

// semPongChild answers args[0] pings: Wait on the semaphore at 0, Post the
// one at 8.
func semPongChild(args []string) int {
	n, _ := strconv.Atoi(args[0])
	m, err := inheritedMapping()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer m.Close()
	ping, err1 := m.Semaphore(0)
	pong, err2 := m.Semaphore(8)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range n {
		if err := ping.Wait(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := pong.Post(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func TestSemaphoreAcrossProcesses(t *testing.T) {
	const rounds = 5000
	o, m := lockObject(t)
	cmd, _ := startLockChild(t, o, "sem-pong", strconv.Itoa(rounds))
	ping, _ := m.Semaphore(0)
	pong, _ := m.Semaphore(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	for i := range rounds {
		if err := ping.Post(); err != nil {
			t.Fatal(err)
		}
		if err := pong.Wait(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	t.Logf("%d round trips: %v each", rounds, time.Since(start)/rounds)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if semValue(t, ping) != 0 || semValue(t, pong) != 0 {
		t.Fatalf("values after the ping-pong: %d, %d", semValue(t, ping), semValue(t, pong))
	}
}

// semValue returns s's value, failing the test on an error.
func semValue(t *testing.T, s *shm.Semaphore) int {
	t.Helper()
	v, err := s.Value()
	if err != nil {
		t.Fatalf("Value: %v", err)
	}
	return v
}

// tryWait returns TryWait's result, failing the test on an error.
func tryWait(t *testing.T, s *shm.Semaphore) bool {
	t.Helper()
	ok, err := s.TryWait()
	if err != nil {
		t.Fatalf("TryWait: %v", err)
	}
	return ok
}
