package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/shmkit/shm"
)

// The lock step's layout of its one-page object.
const (
	toChildOff  = 0   // semaphore the parent posts
	toParentOff = 8   // semaphore the child posts
	mutexOff    = 64  // the mutex
	counterOff  = 128 // a plain uint64 that only the mutex guards
	lockMsgOff  = 256 // the parent's message
	lockRepOff  = 384 // the child's answer
	increments  = 2000
)

// lockSet is what both sides attach to the mapping.
type lockSet struct {
	toChild, toParent *shm.Semaphore
	mu                *shm.Mutex
}

func attachLocks(m *shm.Mapping) (*lockSet, error) {
	var l lockSet
	var err error
	if l.toChild, err = m.Semaphore(toChildOff); err != nil {
		return nil, err
	}
	if l.toParent, err = m.Semaphore(toParentOff); err != nil {
		return nil, err
	}
	if l.mu, err = m.Mutex(mutexOff); err != nil {
		return nil, err
	}
	return &l, nil
}

// waitSem waits on s; a post made before ctx ended still counts.
func waitSem(ctx context.Context, s *shm.Semaphore) error {
	err := s.Wait(ctx)
	if err != nil {
		if ok, _ := s.TryWait(); ok {
			return nil
		}
	}
	return err
}

// increment adds one to the counter under the mutex, with a plain
// (non-atomic) read and write that only the mutex keeps whole.
func increment(ctx context.Context, m *shm.Mapping, mu *shm.Mutex) error {
	if err := mu.Lock(ctx); err != nil {
		return err
	}
	b := m.Bytes()[counterOff : counterOff+8]
	binary.NativeEndian.PutUint64(b, binary.NativeEndian.Uint64(b)+1)
	return mu.Unlock()
}

func (d *demo) stepLocks() (string, error) {
	o, err := shm.CreateAnon(demoSize)
	if err != nil {
		return "", err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return "", err
	}
	defer m.Close()
	l, err := attachLocks(m)
	if err != nil {
		return "", err
	}
	d.say("placed two semaphores (offsets %d, %d) and a mutex (offset %d) in an anonymous object; all-zero bytes are their initial state",
		toChildOff, toParentOff, mutexOff)

	ctx, cancel := context.WithTimeout(d.ctx, childTimeout)
	defer cancel()
	cmd := d.child(ctx, "locks", d.token)
	if err := shm.Pass(cmd, demoEnv, o); err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// When the child ends, stop waiting for it.
	childGone, gone := context.WithCancel(ctx)
	defer gone()
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		gone()
	}()
	fail := func(what string, err error) (string, error) {
		cancel()
		if cerr := <-exited; cerr != nil {
			return "", fmt.Errorf("%s: %w (the child failed: %v)", what, err, cerr)
		}
		return "", fmt.Errorf("%s: %w", what, err)
	}

	// Semaphore hand-off.
	msg := []byte("parent:" + d.token)
	if _, err := m.WriteAt(msg, lockMsgOff); err != nil {
		return fail("write", err)
	}
	if err := l.toChild.Post(); err != nil {
		return fail("post", err)
	}
	d.say("wrote %q and posted the child's semaphore", msg)
	if err := waitSem(childGone, l.toParent); err != nil {
		return fail("waiting for the child's post", err)
	}
	got := make([]byte, len("child:")+len(d.token))
	if _, err := m.ReadAt(got, lockRepOff); err != nil {
		return fail("read", err)
	}
	if want := "child:" + d.token; string(got) != want {
		return fail("hand-off", fmt.Errorf("mismatch: read %q after the child's post, want %q", got, want))
	}
	d.say("woken by the child's post; read %q: matches", got)

	// Mutex: both processes increment one counter at the same time.
	if err := l.toChild.Post(); err != nil {
		return fail("post", err)
	}
	for range increments {
		if err := increment(childGone, m, l.mu); err != nil {
			return fail("increment", err)
		}
	}
	if err := waitSem(childGone, l.toParent); err != nil {
		return fail("waiting for the child's increments", err)
	}
	n := binary.NativeEndian.Uint64(m.Bytes()[counterOff:])
	if n != 2*increments {
		return fail("mutex", fmt.Errorf("mismatch: the counter is %d after 2 × %d increments under the mutex, want %d", n, increments, 2*increments))
	}
	d.say("both processes added %d to a plain counter under the mutex at once: it reads %d, nothing lost", increments, n)

	// Owner death: the child takes the mutex and exits holding it.
	if err := l.toChild.Post(); err != nil {
		return fail("post", err)
	}
	if err := <-exited; err != nil {
		return "", fmt.Errorf("child locks: %w", err)
	}
	err = l.mu.Lock(ctx)
	if !errors.Is(err, shm.ErrOwnerDead) {
		if err == nil {
			l.mu.Unlock()
		}
		return "", fmt.Errorf("locking a mutex whose holder died returned %v, want shm.ErrOwnerDead", err)
	}
	d.say("the child died holding the mutex; Lock took it over with ErrOwnerDead")
	if err := l.mu.MarkConsistent(); err != nil {
		return "", err
	}
	if err := l.mu.Unlock(); err != nil {
		return "", err
	}
	ok, err := l.mu.TryLock()
	if err != nil || !ok {
		return "", fmt.Errorf("after MarkConsistent and Unlock, TryLock = %v, %v; want true, nil", ok, err)
	}
	if err := l.mu.Unlock(); err != nil {
		return "", err
	}
	d.say("MarkConsistent, Unlock: the mutex works again (TryLock succeeds)")
	return "", nil
}

// demoLockChild is the child side of the lock step.
func demoLockChild(e *env, token string, say func(string, ...any)) error {
	o, err := shm.Inherited(demoEnv)
	if err != nil {
		return err
	}
	m, err := o.Map()
	if err != nil {
		return err
	}
	l, err := attachLocks(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	if err := waitSem(ctx, l.toChild); err != nil {
		return fmt.Errorf("waiting for the parent's post: %w", err)
	}
	want := []byte("parent:" + token)
	got := make([]byte, len(want))
	if _, err := m.ReadAt(got, lockMsgOff); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("mismatch: read %q after the parent's post, want %q", got, want)
	}
	reply := []byte("child:" + token)
	if _, err := m.WriteAt(reply, lockRepOff); err != nil {
		return err
	}
	if err := l.toParent.Post(); err != nil {
		return err
	}
	say("woken by the parent's post; read %q: matches; wrote %q and posted back", got, reply)
	if err := waitSem(ctx, l.toChild); err != nil {
		return fmt.Errorf("waiting for the parent's go: %w", err)
	}
	for range increments {
		if err := increment(ctx, m, l.mu); err != nil {
			return err
		}
	}
	say("added %d to the counter under the mutex", increments)
	if err := l.toParent.Post(); err != nil {
		return err
	}
	// Once the parent is done with the counter, die holding the mutex.
	if err := waitSem(ctx, l.toChild); err != nil {
		return fmt.Errorf("waiting for the parent's last post: %w", err)
	}
	if err := l.mu.Lock(ctx); err != nil {
		return err
	}
	say("took the mutex and exits without unlocking it")
	os.Exit(0) // die holding it: no deferred clean-up
	return nil
}
