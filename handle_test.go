//go:build unix

package shm_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// TestFileIsTheCallers: File returns a duplicate the caller owns. Closing
// it leaves the Object whole, and when the number is reused by an
// unrelated file, the Object's operations still reach the object, never
// that file (issue 9, item 3).
func TestFileIsTheCallers(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	f, err := o.File()
	if err != nil {
		t.Fatal(err)
	}
	g, err := o.File()
	if err != nil {
		t.Fatal(err)
	}
	if f.Fd() == g.Fd() || int(f.Fd()) == shm.RawFD(o) {
		t.Errorf("File() gave descriptors %d and %d, object holds %d: want three", f.Fd(), g.Fd(), shm.RawFD(o))
	}
	g.Close()
	if st, err := f.Stat(); err != nil || st.Size() != 4096 {
		t.Fatalf("Stat through File(): %v, %v", st, err)
	}
	num := int(f.Fd())
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Open unrelated files until one gets the number the file had.
	dir := t.TempDir()
	var victim *os.File
	for i := 0; victim == nil && i < 256; i++ {
		v, err := os.Create(filepath.Join(dir, fmt.Sprint("victim", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if _, err := v.WriteString("precious"); err != nil {
			t.Fatal(err)
		}
		if int(v.Fd()) == num {
			victim = v
		}
	}
	if victim == nil {
		t.Skipf("descriptor %d was not reused by 256 opens", num)
	}
	if err := o.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if err := o.Truncate(8192); err != nil {
		t.Fatal(err)
	}
	if st, err := victim.Stat(); err != nil || st.Size() != int64(len("precious")) {
		t.Errorf("the unrelated file on descriptor %d after o.Truncate: %v, %v; want %d bytes", num, st.Size(), err, len("precious"))
	}
	if n, err := o.Size(); err != nil || n != 8192 {
		t.Errorf("o.Size() = %d, %v; want 8192", n, err)
	}
}

// TestFileOutlivesObject: a file from File keeps working after the Object
// is closed, and File after Close reports fs.ErrClosed.
func TestFileOutlivesObject(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	f, err := o.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != 4096 {
		t.Errorf("the file after Object.Close: %v, %v; want a 4096-byte file", st, err)
	}
	if g, err := o.File(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("File() after Close = %v, %v; want fs.ErrClosed", g, err)
	}
}

// TestFileAfterClose: a closed object cannot be passed or measured.
func TestFileAfterClose(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
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
				f, err := o.File()
				if err == nil {
					f.Close()
				}
				return err
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
		// Held until they are counted: a collection during the loop
		// would close some of them before the count.
		objs := make([]*shm.Object, 0, 40)
		for i := range 40 {
			o, err := shm.CreateAnon(4096)
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				// Pass makes the Object's own *os.File.
				_ = shm.Pass(exec.Command("true"), "x", o)
			}
			objs = append(objs, o)
		}
		if n := countFDs(); n < before+40 {
			t.Fatalf("descriptors: %d before, %d with 40 objects open", before, n)
		}
		runtime.KeepAlive(objs)
	}()
	deadline := time.Now().Add(time.Minute)
	for countFDs() > before {
		if time.Now().After(deadline) {
			t.Fatalf("descriptors: %d before, %d after the objects became garbage", before, countFDs())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
