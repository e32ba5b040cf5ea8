//go:build linux || openbsd || netbsd || dragonfly || solaris

package shm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/shmkit/shm/internal/dialect"
	"golang.org/x/sys/unix"
)

// useDialect makes the named-object functions follow goos's rules rooted
// in a fresh directory, which it returns, until the test ends.
func useDialect(t *testing.T, goos string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("file dialects are exercised on linux; this is %s", runtime.GOOS)
	}
	d, err := dialect.ForOS(goos)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dialect.SetTestHost(d.Rooted(dir))
	t.Cleanup(func() { dialect.SetTestHost(nil) })
	return dir
}

// writeFile creates path (and its directory) with size bytes and mode.
func writeFile(t *testing.T, path string, size int, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// junk adds what a listing must leave out: a directory, a symbolic link
// and a FIFO.
func junk(t *testing.T, dir, prefix string) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, prefix+"dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, prefix+"link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, prefix+"fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
}

type want struct {
	name, hash, kind string
	size             int64
	mode             fs.FileMode
}

func checkListing(t *testing.T, goos, dir string, wants []want) {
	t.Helper()
	l, err := List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if l.OS != goos || l.Dir != dir {
		t.Errorf("List: OS %q, Dir %q; want %q, %q", l.OS, l.Dir, goos, dir)
	}
	if len(l.Objects) != len(wants) {
		t.Fatalf("List found %d objects, want %d: %+v", len(l.Objects), len(wants), l.Objects)
	}
	for i, w := range wants {
		o := l.Objects[i]
		if o.Name != w.name || o.Hash != w.hash || o.Kind != w.kind || o.Size != w.size || o.Mode != w.mode {
			t.Errorf("object %d: name %q hash %q kind %q size %d mode %v; want %q %q %q %d %v",
				i, o.Name, o.Hash, o.Kind, o.Size, o.Mode, w.name, w.hash, w.kind, w.size, w.mode)
		}
		if o.UID != os.Geteuid() || o.GID < 0 {
			t.Errorf("object %d: uid %d gid %d, want uid %d", i, o.UID, o.GID, os.Geteuid())
		}
		fi, err := os.Lstat(o.Path)
		if err != nil {
			t.Errorf("object %d: path %s: %v", i, o.Path, err)
		} else if !fi.ModTime().Equal(o.Mtime) {
			t.Errorf("object %d: mtime %v, lstat says %v", i, o.Mtime, fi.ModTime())
		}
		if o.Atime.IsZero() || o.Ctime.IsZero() {
			t.Errorf("object %d: zero times: atime %v ctime %v", i, o.Atime, o.Ctime)
		}
	}
}

func TestListLinuxFiles(t *testing.T) {
	dir := useDialect(t, "linux")
	writeFile(t, filepath.Join(dir, "b"), 10, 0o640)
	writeFile(t, filepath.Join(dir, "a"), 0, 0o600)
	writeFile(t, filepath.Join(dir, "sem.s"), 32, 0o600)
	junk(t, dir, "")
	checkListing(t, "linux", dir, []want{
		{"/a", "", KindObject, 0, 0o600},
		{"/b", "", KindObject, 10, 0o640},
		{"/sem.s", "", KindSemaphore, 32, 0o600},
	})
}

func TestListEmpty(t *testing.T) {
	dir := useDialect(t, "linux")
	l, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if l.Objects == nil || len(l.Objects) != 0 || l.Dir != dir {
		t.Errorf("List of an empty directory: %+v; want no objects (a non-nil empty slice) in %s", l, dir)
	}
}

func TestListMissingDir(t *testing.T) {
	dir := useDialect(t, "linux")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := List(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List of a missing directory: %v; want an error satisfying fs.ErrNotExist", err)
	}
}

func TestListOpenBSDHashes(t *testing.T) {
	dir := useDialect(t, "openbsd")
	obj, err := NamePath("/x")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, obj, 100, 0o600)
	hx := strings.TrimSuffix(filepath.Base(obj), ".shm")
	sem := filepath.Join(dir, strings.Repeat("0", 64)+".sem")
	writeFile(t, sem, 4096, 0o600)
	writeFile(t, filepath.Join(dir, "notahash.shm"), 1, 0o600)
	writeFile(t, filepath.Join(dir, strings.Repeat("A", 64)+".shm"), 1, 0o600) // uppercase: not libc's
	writeFile(t, filepath.Join(dir, "plain"), 1, 0o600)
	junk(t, dir, "")
	checkListing(t, "openbsd", dir, []want{
		{"", strings.Repeat("0", 64), KindSemaphore, 4096, 0o600},
		{"", hx, KindObject, 100, 0o600},
	})
	info, err := Stat("/x")
	if err != nil {
		t.Fatal(err)
	}
	if info.Hash != hx || info.Name != "/x" || info.Size != 100 {
		t.Errorf("Stat(/x) = %+v; want hash %s, size 100", info, hx)
	}
}

func TestListNetBSD(t *testing.T) {
	dir := useDialect(t, "netbsd")
	writeFile(t, filepath.Join(dir, ".shmobj_obj"), 7, 0o600)
	writeFile(t, filepath.Join(dir, "other"), 1, 0o600)
	junk(t, dir, ".shmobj_")
	checkListing(t, "netbsd", dir, []want{{"/obj", "", KindObject, 7, 0o600}})
}

func TestListDragonFly(t *testing.T) {
	dir := useDialect(t, "dragonfly")
	writeFile(t, filepath.Join(dir, "obj"), 7, 0o644)
	junk(t, dir, "")
	checkListing(t, "dragonfly", dir, []want{{"/obj", "", KindObject, 7, 0o644}})
}

func TestListSolaris(t *testing.T) {
	dir := useDialect(t, "solaris")
	writeFile(t, filepath.Join(dir, ".SHMDshort"), 3, 0o600)
	writeFile(t, filepath.Join(dir, ".SHMLshort"), 0, 0o600) // the lock file
	long := "/" + strings.Repeat("n", 252)
	p, err := NamePath(long)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, "/.SHMD/") {
		t.Fatalf("NamePath(long name) = %s; want the hash-directory form", p)
	}
	writeFile(t, p, 5, 0o600)
	writeFile(t, filepath.Join(dir, "unrelated"), 1, 0o600)
	junk(t, dir, ".SHMD")
	checkListing(t, "solaris", dir, []want{
		{long, "", KindObject, 5, 0o600},
		{"/short", "", KindObject, 3, 0o600},
	})
}

func TestStatErrors(t *testing.T) {
	dir := useDialect(t, "linux")
	junk(t, dir, "")
	for _, c := range []struct {
		name string
		is   error
	}{
		{"/missing", fs.ErrNotExist},
		{"/dir", ErrNotMemory},
		{"/fifo", ErrNotMemory},
		{"/link", ErrNotMemory},
		{"/a/b", syscall.EINVAL},
	} {
		_, err := Stat(c.name)
		var pe *fs.PathError
		if !errors.Is(err, c.is) || !errors.As(err, &pe) || pe.Path != c.name {
			t.Errorf("Stat(%q) = %v; want a *fs.PathError for the name matching %v", c.name, err, c.is)
		}
	}
}
