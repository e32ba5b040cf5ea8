package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// mechanismEnv forces one token-lock mechanism in tests and their
// children; ownerDirEnv passes them the directory of flock token files.
const (
	mechanismEnv = "LOCK_TEST_MECHANISM"
	ownerDirEnv  = "LOCK_TEST_OWNER_DIR"
)

var allLockers = map[string]func(*os.File) (locker, error){
	"ofd": newOFDLocker, "fcntl": newFcntlLocker, "flock": newFlockLocker,
}

var forcedMechanism = os.Getenv(mechanismEnv)

func init() {
	if forcedMechanism != "" {
		lockers = []func(*os.File) (locker, error){allLockers[forcedMechanism]}
	}
	if d := os.Getenv(ownerDirEnv); d != "" {
		SetTokenDirForTest(d)
	}
}

// withMechanism makes NewFileOwner use only mech (and so do children) for
// the rest of the test; flock files go to a temporary directory.
func withMechanism(t *testing.T, mech string) {
	old, oldForced := lockers, forcedMechanism
	lockers, forcedMechanism = []func(*os.File) (locker, error){allLockers[mech]}, mech
	t.Cleanup(func() { lockers, forcedMechanism = old, oldForced })
	if mech == "flock" {
		dir := filepath.Join(t.TempDir(), "owners")
		t.Setenv(ownerDirEnv, dir)
		oldDir := tokenDir
		SetTokenDirForTest(dir)
		t.Cleanup(func() { SetTokenDirForTest(oldDir) })
	}
}

func TestFileOwnerMechanisms(t *testing.T) {
	for _, mech := range []string{"ofd", "fcntl", "flock"} {
		t.Run(mech, func(t *testing.T) {
			withMechanism(t, mech)
			f, _ := sharedMem(t)
			a, err := NewFileOwner(f)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Mechanism() != mech {
				t.Fatalf("Mechanism() = %q", a.Mechanism())
			}
			b, err := NewFileOwner(f)
			if err != nil {
				t.Fatal(err)
			}
			ta, tb := a.Token(), b.Token()
			if ta == 0 || ta > MaxToken || tb == 0 || tb > MaxToken || ta == tb {
				t.Fatalf("tokens %#x, %#x", ta, tb)
			}
			for _, c := range []struct {
				o   *FileOwner
				tok uint32
			}{{a, ta}, {a, tb}, {b, ta}, {b, tb}} {
				if alive, err := c.o.Alive(c.tok); !alive || err != nil {
					t.Fatalf("Alive(%#x) = %v, %v, want true", c.tok, alive, err)
				}
			}
			// A token nobody took is dead.
			free := (ta + 1) & MaxToken
			for free == 0 || free == tb {
				free = (free + 1) & MaxToken
			}
			if alive, err := a.Alive(free); alive || err != nil {
				t.Fatalf("Alive(free token) = %v, %v", alive, err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if alive, err := a.Alive(tb); alive || err != nil {
				t.Fatalf("Alive(closed owner's token) = %v, %v, want false", alive, err)
			}
			if _, err := b.Alive(ta); !errors.Is(err, errOwnerClosed) {
				t.Fatalf("Alive on a closed owner = %v", err)
			}
			if _, err := a.Alive(0); err == nil {
				t.Fatal("Alive(0) succeeded")
			}
		})
	}
}

// TestFileOwnerSurvivesClose checks the point of OFD locks on a private
// re-open: closing another descriptor of the object keeps the token lock.
func TestFileOwnerSurvivesClose(t *testing.T) {
	withMechanism(t, "ofd")
	f, _ := sharedMem(t)
	o, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	g, err := os.Open("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	probe, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if alive, err := probe.Alive(o.Token()); !alive || err != nil {
		t.Fatalf("after closing another descriptor: Alive = %v, %v", alive, err)
	}
}

func TestNewFileOwnerNil(t *testing.T) {
	if _, err := NewFileOwner(nil); err == nil {
		t.Fatal("NewFileOwner(nil) succeeded")
	}
}
