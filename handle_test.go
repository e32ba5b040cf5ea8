//go:build linux || freebsd || openbsd || netbsd || dragonfly || darwin || solaris

package shm_test

import (
	"errors"
	"io/fs"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestFileMadeOnce: File returns one *os.File for the object's life, and
// Close closes it.
func TestFileMadeOnce(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	f := o.File()
	if f == nil || o.File() != f {
		t.Fatalf("File() = %p then %p, want one non-nil file", f, o.File())
	}
	if st, err := f.Stat(); err != nil || st.Size() != 4096 {
		t.Fatalf("Stat through File(): %v, %v", st, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if o.File() != f {
		t.Error("File() after Close is not the file made before")
	}
	if _, err := f.Stat(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("the file after Object.Close: Stat = %v, want fs.ErrClosed", err)
	}
}

// TestFileAfterClose: an object closed before anyone asked for its file
// has none to give, and cannot be passed.
func TestFileAfterClose(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if f := o.File(); f != nil {
		t.Errorf("File() after Close = %v, want nil", f)
	}
	if err := shm.Pass(exec.Command("true"), "x", o); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Pass after Close = %v, want fs.ErrClosed", err)
	}
	if _, err := o.Size(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Size after Close = %v, want fs.ErrClosed", err)
	}
}

// TestCloseRacesOperations closes objects while other goroutines use
// them: every operation either works or reports fs.ErrClosed, and no
// descriptor is left behind. Run it under -race.
func TestCloseRacesOperations(t *testing.T) {
	before := countFDs()
	for round := range 200 {
		o, err := shm.CreateAnon(4096)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		ops := []func() error{
			func() error { _, err := o.Size(); return err },
			func() error { return o.Truncate(8192) },
			func() error {
				m, err := o.Map()
				if err == nil {
					m.Close()
				}
				return err
			},
			func() error {
				_ = o.File() // nil or a file, never a crash
				return nil
			},
			o.Close,
		}
		for _, op := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 5 {
					if err := op(); err != nil && !errors.Is(err, fs.ErrClosed) {
						t.Errorf("round %d: %v, want nil or fs.ErrClosed", round, err)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		o.Close()
	}
	if before >= 0 {
		if after := countFDs(); after > before {
			t.Errorf("descriptors: %d before, %d after", before, after)
		}
	}
}

// TestForgottenObjectsCollected: an Object dropped without Close gives
// its descriptor back when the garbage collector finds it, as an
// *os.File does, whether or not its file was made.
func TestForgottenObjectsCollected(t *testing.T) {
	before := countFDs()
	if before < 0 {
		t.Skip("cannot count descriptors on this system: no /proc/self/fd or /dev/fd")
	}
	func() {
		for i := range 40 {
			o, err := shm.CreateAnon(4096)
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				o.File()
			}
		}
	}()
	if n := countFDs(); n < before+40 {
		t.Fatalf("descriptors: %d before, %d with 40 objects open", before, n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for countFDs() > before {
		if time.Now().After(deadline) {
			t.Fatalf("descriptors: %d before, %d after the objects became garbage", before, countFDs())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
