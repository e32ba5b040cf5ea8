package shm_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/shmkit/shm"
	"golang.org/x/sys/windows"
)

// winName returns a fresh name for a named section.
func winName(t *testing.T) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	return "/shmtest-" + os.Getenv(runEnv) + "-" + hex.EncodeToString(b[:])
}

var getHandleInformation = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetHandleInformation")

// inheritable reports whether the handle h is marked inheritable.
func inheritable(t *testing.T, h windows.Handle) bool {
	t.Helper()
	var flags uint32
	if r, _, err := getHandleInformation.Call(uintptr(h), uintptr(unsafe.Pointer(&flags))); r == 0 {
		t.Fatal(err)
	}
	return flags&windows.HANDLE_FLAG_INHERIT != 0
}

func TestWindowsAnon(t *testing.T) {
	o, err := shm.CreateAnon(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Strategy() != "section" {
		t.Errorf("Strategy = %q, want section", o.Strategy())
	}
	if inheritable(t, shm.SectionHandle(o)) {
		t.Error("CreateAnon's handle is inheritable")
	}
	size, err := o.Size()
	if err != nil || size < 5000 {
		t.Fatalf("Size = %d, %v; want at least 5000", size, err)
	}
	t.Logf("CreateAnon(5000): Size reports %d", size)
	if err := o.Truncate(size); err != nil {
		t.Errorf("Truncate to the same size: %v", err)
	}
	if err := o.Truncate(size + 4096); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "fixed") {
		t.Errorf("Truncate to another size: %v, want ErrUnsupported saying the size is fixed", err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes()[4990:], "0123456789")
	// A second view of the same section sees the bytes.
	m2, err := o.MapRange(4990, 10, shm.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m2.Bytes()); got != "0123456789" {
		t.Errorf("second view: %q", got)
	}
	if err := m.Flush(); err != nil {
		t.Errorf("Flush: %v", err)
	}
	if _, err := m2.WriteAt([]byte("x"), 0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteAt on a read-only view: %v", err)
	}
	m2.Close()
	m.Close()
	if _, err := shm.CreateAnon(0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CreateAnon(0): %v, want ErrUnsupported", err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Size(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Size after Close: %v", err)
	}
}

// TestWindowsFile: Object.File returns a duplicate handle that keeps the
// section, and NewObject adopts it back.
func TestWindowsFile(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "through a duplicate")
	m.Close()
	f, err := o.File()
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	o2, err := shm.NewObject(f)
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if o2.Strategy() != "adopted" || o2.ReadOnly() {
		t.Errorf("adopted: strategy %q, read-only %v", o2.Strategy(), o2.ReadOnly())
	}
	m2, err := o2.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if !bytes.HasPrefix(m2.Bytes(), []byte("through a duplicate")) {
		t.Errorf("adopted object holds %q", m2.Bytes()[:19])
	}

	// A file that is not a section is refused and left open.
	dir, err := os.MkdirTemp("", "shmtest")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	plain, err := os.Create(dir + `\plain`)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := shm.NewObject(plain); !errors.Is(err, shm.ErrNotMemory) {
		t.Errorf("NewObject(regular file): %v, want ErrNotMemory", err)
	}
	if _, err := plain.Write([]byte("x")); err != nil {
		t.Errorf("the refused file was closed: %v", err)
	}
}

func TestWindowsRanges(t *testing.T) {
	const size = 3<<16 + 100
	o, err := shm.CreateAnon(size)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range m.Bytes()[:size] {
		m.Bytes()[i] = byte(i * 7)
	}
	// Offsets off the 64 KiB granularity, and a range that crosses it.
	for _, r := range [][2]int64{{1, 10}, {1<<16 - 3, 10}, {1<<16 + 5, 1 << 16}, {size - 1, 1}, {0, size}} {
		v, err := o.MapRange(r[0], r[1], shm.ReadOnly)
		if err != nil {
			t.Fatalf("MapRange(%d, %d): %v", r[0], r[1], err)
		}
		if v.Offset() != r[0] || int64(v.Len()) != r[1] || !bytes.Equal(v.Bytes(), m.Bytes()[r[0]:r[0]+r[1]]) {
			t.Errorf("MapRange(%d, %d): offset %d, %d bytes, contents differ: %v", r[0], r[1], v.Offset(), v.Len(), !bytes.Equal(v.Bytes(), m.Bytes()[r[0]:r[0]+r[1]]))
		}
		v.Close()
	}
	// Ranges that do not fit: TestMapErrors, shared with the Unix
	// systems.
}

// TestWindowsFault: an access violation inside a view (a page made
// inaccessible here, as a fault would be) reaches ReadAt and WriteAt as
// ErrFault through the Windows exception path, not a crash.
func TestWindowsFault(t *testing.T) {
	o, err := shm.CreateAnon(3 * 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	page := uintptr(unsafe.Pointer(&m.Bytes()[4096]))
	var old uint32
	if err := windows.VirtualProtect(page, 4096, windows.PAGE_NOACCESS, &old); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := m.ReadAt(buf, 4096+10); !errors.Is(err, shm.ErrFault) {
		t.Errorf("ReadAt of an inaccessible page: %v, want ErrFault", err)
	}
	if _, err := m.WriteAt(buf, 4096-50); !errors.Is(err, shm.ErrFault) {
		t.Errorf("WriteAt into an inaccessible page: %v, want ErrFault", err)
	}
	if n, err := m.ReadAt(buf, 0); n != len(buf) || err != nil {
		t.Errorf("ReadAt of an accessible page: %d, %v", n, err)
	}
	if err := windows.VirtualProtect(page, 4096, old, &old); err != nil {
		t.Fatal(err)
	}
}

func TestWindowsValidName(t *testing.T) {
	good := map[string]string{
		"/x":                           `Local\x`,
		"/a.b-c_d":                     `Local\a.b-c_d`,
		`Local\x`:                      `Local\x`,
		`Global\x`:                     `Global\x`,
		"/" + strings.Repeat("a", 254): `Local\` + strings.Repeat("a", 254),
	}
	for name, want := range good {
		if err := shm.ValidName(name); err != nil {
			t.Errorf("ValidName(%q): %v", name, err)
		}
		if p, err := shm.NamePath(name); p != want || err != nil {
			t.Errorf("NamePath(%q) = %q, %v; want %q", name, p, err, want)
		}
	}
	for _, name := range []string{"", "x", "/", "/.", "/..", "/a/b", `/a\b`, "/a\x00b", `Local\`, `Other\x`, "/\xff",
		"/" + strings.Repeat("a", 255)} {
		err := shm.ValidName(name)
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			t.Errorf("ValidName(%q) = %v, want a *fs.PathError", name, err)
		}
		if _, err := shm.Create(name, 4096, 0); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
	}
}

func TestWindowsNamed(t *testing.T) {
	name := winName(t)
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing name: %v, want ErrNotExist", err)
	}
	if err := shm.Unlink(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Unlink of a missing name: %v, want ErrNotExist", err)
	}
	if _, err := shm.Create(name, 0, 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Create with size 0: %v, want ErrUnsupported", err)
	}
	o, err := shm.Create(name, 8192, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name() != name || o.Strategy() != "named-windows" {
		t.Errorf("Name %q, Strategy %q", o.Name(), o.Strategy())
	}
	if p, err := o.Path(); p != `Local\`+name[1:] || err != nil {
		t.Errorf("Path = %q, %v", p, err)
	}
	if err := o.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if info, err := shm.Stat(name); err != nil || info.Size != 8192 || info.Path != `Local\`+name[1:] || info.UID != -1 {
		t.Errorf("Stat = %+v, %v", info, err)
	}
	if _, err := shm.List(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("List: %v, want ErrUnsupported", err)
	}
	if _, err := shm.Create(name, 8192, 0); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create: %v, want ErrExist", err)
	}
	ro, err := shm.OpenReadOnly(name)
	if err != nil {
		t.Fatal(err)
	}
	if !ro.ReadOnly() {
		t.Error("OpenReadOnly's object is not read-only")
	}
	if rm, err := ro.Map(shm.Populate()); err != nil {
		t.Errorf("Map of the read-only object: %v", err)
	} else {
		rm.Close() // a view keeps the section, and its name, alive
	}
	if _, err := ro.MapRange(0, 10, shm.ReadWrite); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("read-write map of the read-only object: %v", err)
	}
	ro.Close()
	// Unlink finds the name but cannot remove it while a handle is open:
	// the name goes with the last handle.
	if err := shm.Unlink(name); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	o2, err := shm.Open(name)
	if err != nil {
		t.Fatalf("Open while a handle is open, after Unlink: %v", err)
	}
	o2.Close()
	o.Close()
	if _, err := shm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after the last handle closed: %v, want ErrNotExist", err)
	}
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after the last handle closed: %v, want ErrNotExist", err)
	}
}

func init() {
	registerHelper("win-open", func(args []string) int {
		o, err := shm.Open(args[0])
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
		if got := string(m.Bytes()[70000 : 70000+len(args[1])]); got != args[1] {
			fmt.Printf("read %q, want %q\n", got, args[1])
			return 1
		}
		if _, err := m.WriteAt([]byte("child was here"), 100); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	})
	registerHelper("win-inherit", func(args []string) int {
		o, err := shm.Inherited("seg")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer o.Close()
		if _, err := shm.Inherited("seg"); err == nil {
			fmt.Println("Inherited twice")
			return 1
		}
		m, err := o.Map()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer m.Close()
		if !bytes.HasPrefix(m.Bytes(), []byte(args[0])) {
			fmt.Printf("read %q, want %q\n", m.Bytes()[:len(args[0])], args[0])
			return 1
		}
		copy(m.Bytes()[100:], "inherited")
		return 0
	})
}

// TestWindowsNamedAcrossProcesses: a second process opens the section by
// name, reads what this one wrote past the first 64 KiB and writes back.
func TestWindowsNamedAcrossProcesses(t *testing.T) {
	name := winName(t)
	o, err := shm.Create(name, 80000, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	copy(m.Bytes()[70000:], "parent wrote this")
	out, err := helperCommand(t, "win-open", name, "parent wrote this").CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if got := string(m.Bytes()[100:114]); got != "child was here" {
		t.Errorf("the child's write: %q", got)
	}
}

// TestWindowsPass: an anonymous section reaches a child through handle
// inheritance and SHM_FD_seg.
func TestWindowsPass(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	copy(m.Bytes(), "passed by inheritance")
	cmd := helperCommand(t, "win-inherit", "passed by inheritance")
	if err := shm.Pass(cmd, "seg", o); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if got := string(m.Bytes()[100:109]); got != "inherited" {
		t.Errorf("the child's write: %q", got)
	}
	// A child that was not passed the object has no variable.
	if _, err := shm.Inherited("seg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Inherited in the parent: %v", err)
	}
}
