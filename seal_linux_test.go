package shm_test

import (
	"errors"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

func TestSeal(t *testing.T) {
	if s := forcedAnonRoute(); s != "" && s != "memfd" {
		t.Skipf("anonymous route %s forced: only memfd objects take seals", s)
	}
	o, err := shm.CreateAnon(8192)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Strategy() != "memfd" {
		t.Skipf("strategy %s: only memfd objects take seals", o.Strategy())
	}
	seals, err := o.Seals()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("initial seals: %v", seals)
	if seals&(shm.SealShrink|shm.SealGrow|shm.SealWrite) != 0 {
		t.Fatalf("a new object is already sealed: %v", seals)
	}
	if err := o.Seal(shm.SealShrink | shm.SealGrow); err != nil {
		t.Fatal(err)
	}
	if err := o.Truncate(4096); !errors.Is(err, unix.EPERM) {
		t.Errorf("shrinking a SealShrink object: %v, want EPERM", err)
	}
	if err := o.Truncate(16384); !errors.Is(err, unix.EPERM) {
		t.Errorf("growing a SealGrow object: %v, want EPERM", err)
	}
	// A writable mapping blocks SealWrite (EBUSY); without one it works,
	// and then no writable mapping can be made.
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "frozen")
	if err := o.Seal(shm.SealWrite); !errors.Is(err, unix.EBUSY) {
		t.Errorf("SealWrite with a writable mapping: %v, want EBUSY", err)
	}
	m.Close()
	if err := o.Seal(shm.SealWrite | shm.SealSeal); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Map(); err == nil {
		t.Error("writable mapping of a write-sealed object succeeded")
	} else {
		t.Logf("writable mapping refused: %v", err)
	}
	r, err := o.MapReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Bytes()[:6]) != "frozen" {
		t.Errorf("read %q", r.Bytes()[:6])
	}
	r.Close()
	if err := o.Seal(shm.SealFutureWrite); !errors.Is(err, unix.EPERM) {
		t.Errorf("sealing after SealSeal: %v, want EPERM", err)
	}
	got, err := o.Seals()
	if err != nil {
		t.Fatal(err)
	}
	want := shm.SealSeal | shm.SealShrink | shm.SealGrow | shm.SealWrite
	if got&want != want {
		t.Errorf("Seals() = %v, want at least %v", got, want)
	}
	if err := o.Seal(shm.Seal(1 << 20)); err == nil {
		t.Error("an unknown seal bit was accepted")
	}
}

// TestSealNamed: objects in /dev/shm do not take seals, and say so.
func TestSealNamed(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Seal(shm.SealShrink); err == nil {
		t.Error("sealing a /dev/shm file succeeded")
	}
}
