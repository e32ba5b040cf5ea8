package lock

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFlockProbesShare: a probe of a dead token finds it dead while
// another probe of the same token is under way (in another process: here
// a shared lock on the token's file through a description of this test's
// own, as a probe takes), and a probe of a live owner's token finds it
// held.
func TestFlockProbesShare(t *testing.T) {
	withMechanism(t, "flock")
	f, _ := sharedMem(t)
	a, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lk, ok := a.lk.(*flockLocker)
	if !ok {
		t.Fatalf("owner's locker is %T, want flock", a.lk)
	}
	dead := (a.Token() + 1) & MaxToken
	if dead == 0 {
		dead = 1
	}
	fd, err := unix.Open(lk.path(dead), unix.O_RDONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o444)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if alive, err := a.Alive(dead); alive || err != nil {
		t.Fatalf("Alive(a dead token another probe is looking at) = %v, %v, want false", alive, err)
	}
	// The live owner's token, probed through a locker that does not
	// hold it (as another process's probe would be).
	other := &flockLocker{dir: lk.dir, fds: map[uint32]int{}}
	flockHeld.Lock()
	delete(flockHeld.m, lk.path(a.Token())) // so that the probe opens the file
	flockHeld.Unlock()
	alive, err := other.held(a.Token())
	flockHeld.Lock()
	flockHeld.m[lk.path(a.Token())] = true
	flockHeld.Unlock()
	if !alive || err != nil {
		t.Fatalf("held(a live owner's token) = %v, %v, want true", alive, err)
	}
}

// TestFlockTokenFileNotRegular: anyone may create names in the shared
// token directory. A FIFO, a symbolic link or a directory at a token's
// name is no owner's: a probe finds the token free at once (open(2) of a
// FIFO would wait for a writer for ever), and a draw of that token draws
// another.
func TestFlockTokenFileNotRegular(t *testing.T) {
	withMechanism(t, "flock")
	f, _ := sharedMem(t)
	a, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lk, ok := a.lk.(*flockLocker)
	if !ok {
		t.Fatalf("owner's locker is %T, want flock", a.lk)
	}
	target := lk.path(a.Token())
	plant := map[string]func(p string) error{
		"fifo":    func(p string) error { return unix.Mkfifo(p, 0o666) },
		"symlink": func(p string) error { return os.Symlink(target, p) },
		"dir":     func(p string) error { return os.Mkdir(p, 0o755) },
	}
	tok := a.Token()
	for name, mk := range plant {
		tok = (tok + 1) & MaxToken
		if tok == 0 {
			tok = 1
		}
		p := lk.path(tok)
		os.Remove(p)
		if err := mk(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { os.Remove(p) })
		// Each call must return (a FIFO's open would wait for ever) and
		// say false, nil: free to a probe, taken to a draw.
		for _, c := range []struct {
			call string
			f    func() (bool, error)
		}{
			{"Alive", func() (bool, error) { return a.Alive(tok) }},
			{"tryLock", func() (bool, error) { return lk.tryLock(tok) }},
		} {
			type result struct {
				ok  bool
				err error
			}
			got := make(chan result, 1)
			go func() {
				ok, err := c.f()
				got <- result{ok, err}
			}()
			select {
			case r := <-got:
				if r.ok || r.err != nil {
					t.Errorf("%s at token %#x: %s = %v, %v; want false, nil", name, tok, c.call, r.ok, r.err)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s at token %#x: %s has not returned after a minute", name, tok, c.call)
			}
		}
	}
}
