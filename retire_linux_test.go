package shm_test

// Close of a mapping whose lock handles skip the hold on their uncontended
// paths: the range is retired behind a private placeholder (see
// internal/region), which must neither leak into the object nor outlive
// the handles.

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/region"
)

func init() {
	registerHelper("retire-peer", retirePeerChild)
}

// retirePeerChild maps the inherited object, prints its mutex and
// semaphore words in hex, then locks and unlocks the mutex and takes a
// token from the semaphore if there is one, and says "ok".
func retirePeerChild([]string) int {
	m, err := inheritedMapping()
	if err != nil {
		return fail("%v", err)
	}
	defer m.Close()
	b := m.Bytes()
	fmt.Printf("%x %x %x\n", b[lifeMutexOff:lifeMutexOff+4], b[lifeMutexOff+4:lifeMutexOff+8], b[lifeSemOff:lifeSemOff+8])
	mu, err := m.Mutex(lifeMutexOff)
	if err != nil {
		return fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	switch err := mu.Lock(ctx); {
	case errors.Is(err, shm.ErrOwnerDead):
		// The parent's Lock won the race with its Close: its mapping is
		// a dead holder now.
		if err := mu.MarkConsistent(); err != nil {
			return fail("MarkConsistent: %v", err)
		}
	case err != nil:
		return fail("Lock: %v", err)
	}
	if err := mu.Unlock(); err != nil {
		return fail("Unlock: %v", err)
	}
	s, err := m.Semaphore(lifeSemOff)
	if err != nil {
		return fail("%v", err)
	}
	if _, err := s.TryWait(); err != nil {
		return fail("TryWait: %v", err)
	}
	fmt.Println("ok")
	return 0
}

// TestCloseRetiresPrivately: goroutines run uncontended Lock/Unlock and
// Post/Wait (the paths that skip the hold) while the mapping closes; every
// call after Close returns fs.ErrClosed; a peer process then finds the
// object's words sane (no poison from this process's placeholder) and
// uses them; and the placeholder goes once the handles are garbage.
func TestCloseRetiresPrivately(t *testing.T) {
	o, _ := lockObject(t)
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	addr := uintptr(unsafe.Pointer(&m.Bytes()[0])) // the object is mapped from offset 0
	mu, err1 := m.Mutex(lifeMutexOff)
	s, err2 := m.Semaphore(lifeSemOff)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	started := make(chan struct{}, 3)
	errs := make(chan error, 3)
	for range 2 {
		wg.Go(func() {
			started <- struct{}{}
			for {
				err := mu.Lock(ctx)
				if err == nil {
					err = mu.Unlock()
				}
				if err != nil {
					if !errors.Is(err, fs.ErrClosed) {
						errs <- err
					}
					return
				}
			}
		})
	}
	wg.Go(func() {
		started <- struct{}{}
		for {
			err := s.Post()
			if err == nil {
				err = s.Wait(ctx)
			}
			if err != nil {
				if !errors.Is(err, fs.ErrClosed) {
					errs <- err
				}
				return
			}
		}
	})
	for range 3 {
		<-started
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call racing Close: %v", err)
	}
	for name, err := range map[string]error{"Lock": mu.Lock(ctx), "Unlock": mu.Unlock(), "Post": s.Post(), "Wait": s.Wait(ctx)} {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close: %v, want fs.ErrClosed", name, err)
		}
	}
	if !region.Retired(addr) {
		t.Error("the range is not retired while the handles are alive")
	}

	cmd, _, out := startLife(t, o, "retire-peer")
	words := strings.Fields(expectLine(t, "peer", out, ""))
	expectLine(t, "peer", out, "ok")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("peer: %v", err)
	}
	if len(words) != 3 || words[0] == "ffffffff" || words[1] != "00000000" || strings.Contains(words[2], "ffffffff") {
		t.Fatalf("peer read the words %q: poison leaked into the object, or the state is not consistent", words)
	}
	sem, err := hex.DecodeString(words[2])
	if err != nil || len(sem) != 8 {
		t.Fatalf("peer printed the semaphore word %q", words[2])
	}
	// The value half comes first on little-endian machines.
	value, waiters := binary.NativeEndian.Uint32(sem[:4]), binary.NativeEndian.Uint32(sem[4:])
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		value, waiters = waiters, value
	}
	if value > 1 || waiters != 0 {
		t.Errorf("semaphore value %d, waiters %d in the object; want at most 1 and 0", value, waiters)
	}

	// The placeholder goes with the handles; the test's deadline bounds
	// the wait.
	mu, s, m = nil, nil, nil
	for region.Retired(addr) {
		runtime.GC()
		runtime.Gosched()
	}
}
