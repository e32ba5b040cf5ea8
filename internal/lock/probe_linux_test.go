package lock

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

var allProbers = map[string]func(*os.File) (locker, error){
	"ofd": newOFDProbe, "fcntl": newFcntlLocker, "flock": newFlockLocker,
}

// TestProbeReadOnly: a probe made from a read-only descriptor of the
// object sees the owners' tokens alive, and dead once closed, with each
// mechanism; it takes no token itself.
func TestProbeReadOnly(t *testing.T) {
	for _, mech := range []string{"ofd", "fcntl", "flock"} {
		t.Run(mech, func(t *testing.T) {
			withMechanism(t, mech)
			old := probeLockers
			probeLockers = []func(*os.File) (locker, error){allProbers[mech]}
			t.Cleanup(func() { probeLockers = old })
			f, _ := sharedMem(t)
			a, err := NewFileOwner(f)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			p, err := NewProbe(ro)
			if err != nil {
				t.Fatal(err)
			}
			if alive, err := p.Alive(a.Token()); !alive || err != nil {
				t.Fatalf("Alive(live owner) = %v, %v", alive, err)
			}
			free := (a.Token() + 1) & MaxToken
			if free == 0 {
				free = 1
			}
			if alive, err := p.Alive(free); alive || err != nil {
				t.Fatalf("Alive(free token) = %v, %v", alive, err)
			}
			tok := a.Token()
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if alive, err := p.Alive(tok); alive || err != nil {
				t.Fatalf("Alive(closed owner) = %v, %v", alive, err)
			}
			if _, err := p.Alive(0); err == nil {
				t.Fatal("Alive(0) succeeded")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := p.Alive(tok); !errors.Is(err, errOwnerClosed) {
				t.Fatalf("Alive after Close: %v", err)
			}
		})
	}
	if _, err := NewProbe(nil); err == nil {
		t.Fatal("NewProbe(nil) succeeded")
	}
}
