//go:build unix

package shm_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

// testName returns a fresh portable name and unlinks it when the test
// ends, whatever happened.
func testName(t *testing.T) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "/shmtest-" + os.Getenv(runEnv) + "-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { shm.Unlink(name) })
	return name
}

func TestCreateOpenUnlink(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 8192, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Name() != name {
		t.Errorf("Name() = %q, want %q", o.Name(), name)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "named hello")
	m.Close()

	if _, err := shm.Create(name, 8192, 0); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create: %v, want fs.ErrExist", err)
	}
	var pe *fs.PathError
	if _, err := shm.Create(name, 1, 0); !errors.As(err, &pe) || pe.Path != name {
		t.Errorf("Create error %v is not a *fs.PathError naming %s", err, name)
	}

	o2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if size, err := o2.Size(); err != nil || size < 8192 {
		t.Fatalf("opened size %d, %v: Open must not truncate", size, err)
	}
	m2, err := o2.Map()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m2.Bytes()[:11]); got != "named hello" {
		t.Errorf("reopened object reads %q", got)
	}
	m2.Close()

	ro, err := shm.OpenReadOnly(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("OpenReadOnly gave a writable object")
	}
	if _, err := ro.MapRange(0, 10, shm.ReadWrite); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("writable mapping of a read-only object: %v, want fs.ErrPermission", err)
	}
	mro, err := ro.Map()
	if err != nil {
		t.Fatal(err)
	}
	if mro.Access() != shm.ReadOnly {
		t.Error("Map of a read-only object is writable")
	}
	mro.Close()

	if err := shm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Unlink: %v, want fs.ErrNotExist", err)
	}
	if err := shm.Unlink(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Unlink: %v, want fs.ErrNotExist", err)
	}
	// The object itself lives on in those who hold it.
	if _, err := o.Size(); err != nil {
		t.Errorf("held object after Unlink: %v", err)
	}
}

// OpenReadOnly must not write its read-only option into the spare
// capacity of the caller's slice: a caller that builds options once and
// passes a prefix (or shares the slice between goroutines) would find an
// option it never put there.
func TestOpenReadOnlyLeavesOptionsAlone(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	opts := make([]shm.OpenOption, 1, 2)
	opts[0] = shm.AllowForeignOwner()
	ro, err := shm.OpenReadOnly(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("OpenReadOnly with an option gave a writable object")
	}
	if spare := opts[:2][1]; spare != nil {
		t.Error("OpenReadOnly wrote an option into the spare capacity of the caller's slice")
	}
}

func TestCreateSizes(t *testing.T) {
	name := testName(t)
	if _, err := shm.Create(name, -1, 0); err == nil {
		t.Error("Create with a negative size succeeded")
	}
	if _, err := shm.Create(name, 10, fs.ModeDir|0o600); err == nil {
		t.Error("Create with a non-permission mode bit succeeded")
	}
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed Creates left %s behind: %v", name, err)
	}
	o, err := shm.Create(name, 0, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.Map(); err == nil {
		t.Error("mapping an empty named object succeeded")
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{
		"", "/", "/a/b", "a/../b", "/a/../b", "..", "/..", "../x", "/.", "a\x00b",
		"/" + strings.Repeat("x", 300),
	} {
		if err := shm.ValidName(name); err == nil {
			t.Errorf("ValidName(%q) = nil", name)
		}
		if o, err := shm.Create(name, 4096, 0); err == nil {
			o.Close()
			shm.Unlink(name)
			t.Errorf("Create(%q) succeeded", name)
		} else {
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Errorf("Create(%q): %v is not a *fs.PathError", name, err)
			}
		}
		if _, err := shm.Open(name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
		if err := shm.Unlink(name); err == nil {
			t.Errorf("Unlink(%q) succeeded", name)
		}
	}
	for _, name := range []string{"/ok", "/a.b_c-D9", "/" + strings.Repeat("z", 30)} {
		if err := shm.ValidPortableName(name); err != nil {
			t.Errorf("ValidPortableName(%q): %v", name, err)
		}
		if err := shm.ValidName(name); err != nil {
			t.Errorf("ValidName(%q): %v (a portable name must be valid everywhere)", name, err)
		}
	}
	for _, name := range []string{"ok", "/" + strings.Repeat("z", 31), "/a b", "/a/b", "/.", "/..", "//a"} {
		if err := shm.ValidPortableName(name); err == nil {
			t.Errorf("ValidPortableName(%q) = nil", name)
		}
	}
}

func TestCheckAnonymous(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Check(); err == nil || errors.Is(err, shm.ErrNameLost) {
		t.Errorf("Check on an anonymous object: %v; want an error that is not ErrNameLost", err)
	}
	if _, err := o.Path(); err == nil {
		t.Error("Path of an anonymous object succeeded")
	}
}
