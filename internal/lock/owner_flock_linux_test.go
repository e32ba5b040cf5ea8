package lock

import (
	"testing"

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
