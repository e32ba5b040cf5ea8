//go:build unix

package shm_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// Inputs that must be refused, with texts that name what is wrong (issue
// 9, item 6).

func init() {
	registerHelper("inherit-wide", helperInheritWide)
}

// helperInheritWide takes "wide" (SHM_FD_wide names descriptor 3 plus
// 2^32), which must be refused, then "good" (descriptor 3 itself).
func helperInheritWide([]string) int {
	if o, err := shm.Inherited("wide"); err == nil {
		fmt.Printf("Inherited(wide) = %v, want an error\n", o)
		return 1
	} else if !strings.Contains(err.Error(), "from 3 to 2147483647") {
		fmt.Printf("Inherited(wide): %v; want the range of descriptor numbers\n", err)
		return 1
	}
	o, err := shm.Inherited("good")
	if err != nil {
		fmt.Println("Inherited(good):", err)
		return 1
	}
	defer o.Close()
	if n, err := o.Size(); err != nil || n != 4096 {
		fmt.Printf("Size() = %d, %v\n", n, err)
		return 1
	}
	return 0
}

// TestInheritedRefusesWideNumbers: a descriptor number that only names an
// inherited descriptor once the kernel truncates it to 32 bits is refused,
// so that two Objects cannot own one descriptor.
func TestInheritedRefusesWideNumbers(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cmd := helperCommand(t, "inherit-wide")
	if err := shm.Pass(cmd, "good", o); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, "SHM_FD_wide=4294967299")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// wantText checks that err is not nil, holds every one of parts, and
// holds no raw control character.
func wantText(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s succeeded, want an error", what)
		return
	}
	msg := err.Error()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: %q does not say %q", what, msg, p)
		}
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Errorf("%s: %q holds a raw control character", what, msg)
	}
}

func TestNameErrorsSayTheRule(t *testing.T) {
	wantText(t, `Create("/..")`, ignoreObj(shm.Create("/..", 4096, 0)), `"." or ".."`, "invalid argument")
	wantText(t, `Create("/a\x00b")`, ignoreObj(shm.Create("/a\x00b", 4096, 0)), "NUL byte", `"/a\x00b"`)
	wantText(t, `Open("/a\x00b")`, ignoreObj(shm.Open("/a\x00b")), "NUL byte")
	wantText(t, `Unlink("/a/../b")`, shm.Unlink("/a/../b"), `"." or ".."`)
	if runtime.GOOS == "linux" {
		err := ignoreObj(shm.Create("/a/b", 4096, 0))
		wantText(t, `Create("/a/b")`, err, "no other '/'")
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf(`Create("/a/b"): %v, want EINVAL still`, err)
		}
	}
	name := testName(t)
	err := ignoreObj(shm.Create(name+"\nfake", 4096, 0))
	wantText(t, "Create of a name with a newline", err, "control character", `\nfake"`)
	if !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Create of a name with a newline: %v, want fs.ErrInvalid", err)
	}
	wantText(t, "Create with mode 01777", ignoreObj(shm.Create(name, 4096, 0o1777|fs.ModeSticky)), "outside 0777")
}

func ignoreObj(o *shm.Object, err error) error {
	if o != nil {
		o.Close()
	}
	return err
}

// TestOpenFIFOSaysPipe: opening a name that leads to a FIFO says so.
func TestOpenFIFOSaysPipe(t *testing.T) {
	name := testName(t)
	p, err := shm.NamePath(name)
	if err != nil || p == name {
		t.Skipf("objects are not files here (%v)", err)
	}
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Skipf("cannot make a FIFO at %s: %v", p, err)
	}
	defer os.Remove(p)
	_, err = shm.Open(name)
	wantText(t, "Open of a FIFO", err, "is a pipe", "not a shared-memory object")
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("Open of a FIFO: %v, want EINVAL still", err)
	}
}

// TestTruncateReadOnlySays: Truncate of a read-only object names why.
func TestTruncateReadOnlySays(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	r, err := shm.OpenReadOnly(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Truncate(8192)
	wantText(t, "Truncate of a read-only object", err, "read-only")
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Truncate of a read-only object: %v, want fs.ErrPermission", err)
	}
}

// TestMutexOnOffsetMappingSays: Mutex(0) on a mapping that starts at an
// unaligned object offset says where the mapping starts.
func TestMutexOnOffsetMappingSays(t *testing.T) {
	o, err := shm.CreateAnon(8192)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.MapRange(4, 4096, shm.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Mutex(0)
	wantText(t, "Mutex(0) on a mapping from offset 4", err, "starts at object offset 4", "use mapping offset 4")
	if mu, err := m.Mutex(4); err != nil {
		t.Errorf("Mutex(4) on a mapping from offset 4: %v", err)
	} else {
		_ = mu
	}
}

// TestAdoptedNamedFileNamed: errors about a file adopted with NewObject
// name the file, not "anonymous object".
func TestAdoptedNamedFileNamed(t *testing.T) {
	name := testName(t)
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	p, err := shm.NamePath(name)
	if err != nil || p == name {
		t.Skipf("objects are not files here (%v)", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := shm.NewObject(f)
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	a.Close()
	_, err = a.Size()
	wantText(t, "Size of a closed adopted file", err, filepath.Base(p))
	if strings.Contains(err.Error(), "anonymous") {
		t.Errorf("Size of a closed adopted file: %v calls it anonymous", err)
	}
}
