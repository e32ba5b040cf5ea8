package shm_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

func init() {
	registerHelper("populate-fill", populateFill)
	registerHelper("populate-writer", populateWriter)
}

// forceParallel makes Populate split mappings of size bytes between
// goroutines for the rest of t, with at least two Ps to run them, and
// checks that it will.
func forceParallel(t *testing.T, size int64) {
	t.Helper()
	t.Cleanup(shm.ForcePopulateParallel())
	if prev := runtime.GOMAXPROCS(0); prev < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	}
	if n := shm.PopulateChunks(size); n < 2 {
		t.Fatalf("forced parallel path: %d goroutines for %d bytes", n, size)
	}
}

// eachPath runs fn with the path Populate takes for a mapping of size
// bytes on its own ("default": one goroutine below 128 MiB) and with the
// parallel path forced.
func eachPath(t *testing.T, size int64, fn func(t *testing.T)) {
	t.Run("default", fn)
	t.Run("parallel", func(t *testing.T) {
		forceParallel(t, size)
		fn(t)
	})
}

// pattern is the byte at offset i of the objects populate-fill fills.
func pattern(i int) byte { return byte(i*7 + i>>12) }

// populateFill writes pattern into every byte of the inherited object "p".
func populateFill([]string) int {
	o, err := shm.Inherited("p")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	b := m.Bytes()
	for i := range b {
		b[i] = pattern(i)
	}
	if err := m.Close(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// checkPattern reports the first byte of b that is not pattern's.
func checkPattern(t *testing.T, b []byte) {
	t.Helper()
	for i := range b {
		if b[i] != pattern(i) {
			t.Fatalf("byte %d of %d is %#x, want %#x", i, len(b), b[i], pattern(i))
		}
	}
}

// TestPopulateKeepsContent checks that Populate's prefault and touch of
// every page leave an object another process filled as it was, read-write
// and read-only, on one goroutine and on several.
func TestPopulateKeepsContent(t *testing.T) {
	const size = 8 << 20
	o, err := shm.CreateAnon(size)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cmd := helperCommand(t, "populate-fill")
	if err := shm.Pass(cmd, "p", o); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("populate-fill: %v\n%s", err, out)
	}
	eachPath(t, size, func(t *testing.T) {
		for _, ro := range []bool{false, true} {
			mp := o.Map
			if ro {
				mp = o.MapReadOnly
			}
			m, err := mp(shm.Populate())
			if err != nil {
				t.Fatal(err)
			}
			checkPattern(t, m.Bytes())
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The layout of the object of TestPopulateConcurrentWriters: page 0 holds
// the control words, every other page a counter in its first word, the
// word Populate's touch adds 0 to.
const (
	writerStop   = 0        // set by the parent: stop after this round
	writerRounds = 4        // rounds the writer completed, updated after each
	writerSize   = 16 << 20 // the object's size
)

// populateWriter increments the counter of every page of the inherited
// object "p" once per round, atomically, until the parent sets the stop
// word; it publishes its count of rounds after each one.
func populateWriter([]string) int {
	o, err := shm.Inherited("p")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer m.Close()
	b := m.Bytes()
	word := func(off int) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	for rounds := uint32(1); atomic.LoadUint32(word(writerStop)) == 0; rounds++ {
		for off := 4096; off < len(b); off += 4096 {
			atomic.AddUint32(word(off), 1)
		}
		atomic.StoreUint32(word(writerRounds), rounds)
	}
	return 0
}

// TestPopulateConcurrentWriters maps, with Populate, an object whose every
// page another process keeps incrementing a counter in, several times
// while it does, then checks that every counter equals the writer's own
// count of rounds: the touch (an atomic add of 0 to that very word) never
// lost a write of the writer's.
func TestPopulateConcurrentWriters(t *testing.T) {
	const size = writerSize
	eachPath(t, size, func(t *testing.T) {
		o, err := shm.CreateAnon(size)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		ctl, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		defer ctl.Close()
		b := ctl.Bytes()
		word := func(off int) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
		cmd := helperCommand(t, "populate-writer")
		if err := shm.Pass(cmd, "p", o); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer // written by the child's output copier until Wait returns
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stopped := false
		stop := func() error {
			if !stopped {
				stopped = true
				atomic.StoreUint32(word(writerStop), 1)
				return <-exited
			}
			return nil
		}
		defer stop()
		// Wait for the writer's first round: it is writing from then on.
		for atomic.LoadUint32(word(writerRounds)) == 0 {
			select {
			case err := <-exited:
				stopped = true
				t.Fatalf("writer exited before its first round: %v\n%s", err, out.String())
			default:
				runtime.Gosched()
			}
		}
		var during uint32
		for range 8 {
			before := atomic.LoadUint32(word(writerRounds))
			m, err := o.Map(shm.Populate())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			during += atomic.LoadUint32(word(writerRounds)) - before
		}
		if err := stop(); err != nil {
			t.Fatalf("writer: %v\n%s", err, out.String())
		}
		rounds := atomic.LoadUint32(word(writerRounds))
		t.Logf("writer: %d rounds, %d of them during the 8 Maps with Populate", rounds, during)
		for off := 4096; off < len(b); off += 4096 {
			if got := atomic.LoadUint32(word(off)); got != rounds {
				t.Fatalf("counter of page %d is %d, the writer made %d rounds: a write was lost", off/4096, got, rounds)
			}
		}
	})
}

// TestPopulateReadOnly populates, read-only, an object sealed against
// writes, which no mapping may write: it works, finds every page in
// memory and the content as it was.
func TestPopulateReadOnly(t *testing.T) {
	skipUnlessPopulateVisible(t)
	const size = 4 << 20
	o, err := shm.CreateAnon(size)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Bytes() {
		m.Bytes()[i] = pattern(i)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Seal(shm.SealWrite); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("this object (strategy %s) cannot be sealed: %v", o.Strategy(), err)
		}
		t.Fatal(err)
	}
	if m, err := o.Map(shm.Populate()); err == nil {
		m.Close()
		t.Fatal("a writable mapping of a write-sealed object was allowed")
	}
	eachPath(t, size, func(t *testing.T) {
		m, err := o.MapReadOnly(shm.Populate())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if in, total := residentKB(t, m.Bytes()); in < total {
			t.Errorf("%d of %d kB mapped after MapReadOnly with Populate", in, total)
		}
		checkPattern(t, m.Bytes())
	})
}

// TestPopulateResident checks that Map with Populate leaves every page of
// a 64 MiB object mapped, on one goroutine and on several.
func TestPopulateResident(t *testing.T) {
	skipUnlessPopulateVisible(t)
	const size = 64 << 20
	eachPath(t, size, func(t *testing.T) {
		o, err := shm.CreateAnon(size)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		m, err := o.Map(shm.Populate())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if in, total := residentKB(t, m.Bytes()); in < total {
			t.Errorf("%d of %d kB mapped after Map with Populate (%d goroutines)", in, total, shm.PopulateChunks(size))
		}
	})
}

// TestPopulateFull maps with Populate an object whose pages cannot all be
// allocated (16 MiB, sparse, in a 1 MiB /dev/shm): Map fails with the
// madvise's EFAULT explained, or on the MAP_POPULATE route (which
// reports nothing) with ErrFault from the touch, on one goroutine and on
// several, and leaves nothing mapped.
func TestPopulateFull(t *testing.T) {
	for _, route := range []string{"", "mmap"} {
		t.Run("route="+route, func(t *testing.T) {
			runInTinyDevShm(t, []string{shm.TestPopulateEnv + "=" + route}, "populate")
		})
	}
}

// tinyPopulate is TestPopulateFull's child.
func tinyPopulate() error {
	const path = "/dev/shm/shm-test-populate-full"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	// Sparse: nothing reserved, as a program other than shm may leave it.
	if err := f.Truncate(bigSize); err != nil {
		f.Close()
		return err
	}
	o, err := shm.NewObject(f)
	if err != nil {
		f.Close()
		return err
	}
	defer o.Close()
	// Under qemu-user madvise does nothing, so the pre-touch is the
	// prefault, and it reports the missing pages as ErrFault.
	visible, why, err := populateVisible()
	if err != nil {
		return err
	}
	touchOnly := os.Getenv(shm.TestPopulateEnv) == "mmap" || !visible
	if !visible {
		fmt.Printf("only the touch prefaults here: %s\n", why)
	}
	for _, parallel := range []bool{false, true} {
		if parallel {
			defer shm.ForcePopulateParallel()()
		}
		m, err := o.Map(shm.Populate())
		if err == nil {
			m.Close()
			return fmt.Errorf("Map(Populate()) of a 16 MiB sparse object in a 1 MiB /dev/shm succeeded (%d goroutines)", shm.PopulateChunks(bigSize))
		}
		if touchOnly {
			if !errors.Is(err, shm.ErrFault) {
				return fmt.Errorf("Map(Populate()) where only the touch prefaults: %v; want ErrFault", err)
			}
		} else if !errors.Is(err, unix.EFAULT) || !strings.Contains(err.Error(), "could not be allocated") {
			return fmt.Errorf("Map(Populate()): %v; want EFAULT explained", err)
		}
		fmt.Printf("%d goroutines: %v\n", shm.PopulateChunks(bigSize), err)
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			return err
		}
		if strings.Contains(string(maps), path) {
			return fmt.Errorf("the failed Map left %s mapped:\n%s", path, maps)
		}
	}
	return nil
}
