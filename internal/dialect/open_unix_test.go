//go:build unix

package dialect

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fileOS are the dialects whose objects are files.
var fileOS = []string{"linux", "openbsd", "netbsd", "dragonfly", "solaris"}

// rootedDialect returns the goos dialect rooted in a new temporary
// directory, ready to run on this host: the netbsd directory is made to
// pass the tmpfs check (mode 01777, type reported as tmpfs), and the
// solaris lock is retried every millisecond.
func rootedDialect(t *testing.T, goos string) *Dialect {
	t.Helper()
	d := mustForOS(t, goos).Rooted(t.TempDir())
	switch d.OS {
	case "netbsd":
		if err := unix.Chmod(d.Dir, 0o1777); err != nil {
			t.Fatal(err)
		}
		d.fsType = func(string) (string, error) { return "tmpfs", nil }
	case "solaris":
		d = d.LockRetry(5000, time.Millisecond)
	}
	return d
}

// forEachFileDialect runs fn for every file dialect, each rooted in its
// own directory.
func forEachFileDialect(t *testing.T, fn func(t *testing.T, d *Dialect)) {
	for _, goos := range fileOS {
		t.Run(goos, func(t *testing.T) {
			t.Parallel()
			fn(t, rootedDialect(t, goos))
		})
	}
}

// listDir returns every path below dir, relative to it, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// relPath is the object file of name relative to d.Dir.
func relPath(t *testing.T, d *Dialect, name string) string {
	t.Helper()
	p, err := d.Path(name)
	if err != nil {
		t.Fatalf("Path(%q): %v", name, err)
	}
	rel, err := filepath.Rel(d.Dir, p)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// wantListing fails unless dir holds exactly want.
func wantListing(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := listDir(t, dir)
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// wantPathErr fails unless err is a *fs.PathError with op, name and errno.
func wantPathErr(t *testing.T, err error, op, name string, errno syscall.Errno) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("error %v (%T), want *fs.PathError %s %s: %v", err, err, op, name, errno)
		return
	}
	if pe.Op != op || pe.Path != name || !errors.Is(pe.Err, errno) {
		t.Errorf("error {%s %q %v}, want {%s %q %v}", pe.Op, pe.Path, pe.Err, op, name, errno)
	}
}

func statFile(t *testing.T, f *os.File) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func wantCloexec(t *testing.T, f *os.File) {
	t.Helper()
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s: FD_CLOEXEC not set", f.Name())
	}
}

func closeLater(t *testing.T, f *os.File) *os.File {
	t.Cleanup(func() { f.Close() })
	return f
}

func TestCreate(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		rel := relPath(t, d, name)
		var reserved []int64
		reserve := func(f *os.File, size int64) error {
			reserved = append(reserved, size)
			if st := statFile(t, f); st.Size != size {
				t.Errorf("reserve saw size %d, want %d", st.Size, size)
			}
			// Nothing is published before reserve returns.
			if _, err := os.Lstat(filepath.Join(d.Dir, rel)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("object visible before it is sized: %v", err)
			}
			return nil
		}
		f, err := d.Create(name, 12345, 0o640, reserve)
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, f)
		// No other *os.File may own the descriptor: after collections
		// it must still be open.
		runtime.GC()
		runtime.GC()
		if !slices.Equal(reserved, []int64{12345}) {
			t.Errorf("reserve called with %v, want [12345]", reserved)
		}
		st := statFile(t, f)
		if st.Size != 12345 {
			t.Errorf("size %d, want 12345", st.Size)
		}
		if got, want := fs.FileMode(st.Mode)&0o777, 0o640&d.modeMask; got != want {
			t.Errorf("mode %v, want %v", got, want)
		}
		if st.Nlink != 1 {
			t.Errorf("%d links, want 1 (the temporary name is gone)", st.Nlink)
		}
		if want := filepath.Join(d.Dir, rel); f.Name() != want {
			t.Errorf("file named %q, want %q", f.Name(), want)
		}
		wantCloexec(t, f)
		wantListing(t, d.Dir, rel)

		// Exclusive: a second Create fails and changes nothing.
		g, err := d.Create(name, 1, 0o600, nil)
		if g != nil || !errors.Is(err, fs.ErrExist) {
			t.Fatalf("second Create = %v, %v; want fs.ErrExist", g, err)
		}
		wantPathErr(t, err, "shm_open", name, syscall.EEXIST)
		if st := statFile(t, f); st.Size != 12345 {
			t.Errorf("second Create changed the size to %d", st.Size)
		}
		wantListing(t, d.Dir, rel)

		z, err := d.Create("/zero", 0, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, z)
		if st := statFile(t, z); st.Size != 0 {
			t.Errorf("size %d, want 0", st.Size)
		}
	})
}

func TestCreateLeavesNothingOnFailure(t *testing.T) {
	boom := errors.New("boom")
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		names := []string{"/obj"}
		if d.OS == "solaris" {
			names = append(names, "/"+a255) // hash-directory layout
		}
		for _, name := range names {
			f, err := d.Create(name, 4096, 0o600, func(*os.File, int64) error { return boom })
			if f != nil || !errors.Is(err, boom) {
				t.Fatalf("Create with failing reserve = %v, %v", f, err)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Op != "reserve" || pe.Path != name {
				t.Errorf("error %v, want PathError reserve %s", err, name)
			}
			wantListing(t, d.Dir)
		}
		f, err := d.Create("/obj", -1, 0o600, nil)
		if f != nil {
			t.Fatal("Create with size -1 succeeded")
		}
		wantPathErr(t, err, "shm_open", "/obj", syscall.EINVAL)
		for _, bad := range []string{"/a/../b", "/..", "/x\x00y", "/a/b"} {
			if d.OS == "openbsd" && bad == "/a/b" {
				continue // hashed: a valid name there
			}
			f, err := d.Create(bad, 1, 0o600, nil)
			if f != nil {
				t.Fatalf("Create(%q) succeeded", bad)
			}
			wantPathErr(t, err, "shm_open", bad, syscall.EINVAL)
		}
		wantListing(t, d.Dir)
	})
}

func TestOpen(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		rel := relPath(t, d, name)
		f, err := d.Create(name, 4096, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("hello"), 100); err != nil {
			t.Fatal(err)
		}
		f.Close()

		check := func(f *os.File, size int64) {
			t.Helper()
			if st := statFile(t, f); st.Size != size {
				t.Errorf("size %d, want %d", st.Size, size)
			}
			wantCloexec(t, f)
			if size > 105 {
				buf := make([]byte, 5)
				if _, err := f.ReadAt(buf, 100); err != nil || string(buf) != "hello" {
					t.Errorf("read %q, %v; want hello", buf, err)
				}
			}
		}
		for _, flag := range []int{os.O_RDWR, os.O_RDONLY, os.O_RDWR | os.O_CREATE, os.O_RDONLY | os.O_CREATE} {
			f, err := d.Open(name, flag, 0o600, OpenOptions{})
			if err != nil {
				t.Fatalf("Open(%#x): %v", flag, err)
			}
			check(f, 4096) // never truncated
			if flag&os.O_RDWR == 0 {
				if _, err := f.WriteAt([]byte("x"), 0); err == nil {
					t.Error("write through a read-only open succeeded")
				}
			}
			f.Close()
		}
		if _, err := d.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, OpenOptions{}); !errors.Is(err, fs.ErrExist) {
			t.Errorf("Open O_EXCL of an existing object: %v, want fs.ErrExist", err)
		}
		_, err = d.Open(name, os.O_RDONLY|os.O_TRUNC, 0, OpenOptions{})
		wantPathErr(t, err, "shm_open", name, syscall.EINVAL)
		f, err = d.Open(name, os.O_RDWR|os.O_TRUNC, 0, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		check(f, 0)
		f.Close()

		_, err = d.Open("/missing", os.O_RDWR, 0, OpenOptions{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open of a missing object: %v, want fs.ErrNotExist", err)
		}
		wantPathErr(t, err, "shm_open", "/missing", syscall.ENOENT)

		n, err := d.Open("/new", os.O_RDWR|os.O_CREATE, 0o644, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st := statFile(t, n); st.Size != 0 || fs.FileMode(st.Mode)&0o777 != 0o644&d.modeMask {
			t.Errorf("new object: size %d mode %v", st.Size, fs.FileMode(st.Mode)&0o777)
		}
		n.Close()
		wantListing(t, d.Dir, rel, relPath(t, d, "/new"))

		_, err = d.Open("/a/../b", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
		wantPathErr(t, err, "shm_open", "/a/../b", syscall.EINVAL)
	})
}

func TestUnlink(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		f, err := d.Create(name, 4096, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, f)
		if err := d.Unlink(name); err != nil {
			t.Fatal(err)
		}
		wantListing(t, d.Dir)
		// The object lives on through its descriptor.
		if _, err := f.WriteAt([]byte("still here"), 0); err != nil {
			t.Errorf("write after unlink: %v", err)
		}
		if _, err := d.Open(name, os.O_RDWR, 0, OpenOptions{}); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open after Unlink: %v, want fs.ErrNotExist", err)
		}
		err = d.Unlink(name)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("second Unlink: %v, want fs.ErrNotExist", err)
		}
		wantPathErr(t, err, "shm_unlink", name, syscall.ENOENT)

		// A bad name gets shm_unlink's errno: ENOENT from glibc.
		want := syscall.EINVAL
		if d.OS == "linux" {
			want = syscall.ENOENT
		}
		wantPathErr(t, d.Unlink("/a/../b"), "shm_unlink", "/a/../b", want)

		// A new object can take the name again.
		g, err := d.Create(name, 1, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		if err := d.Unlink(name); err != nil {
			t.Fatal(err)
		}
		wantListing(t, d.Dir)
	})
}

func TestDirectoryInPlace(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		p, _ := d.Path(name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "keep"), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		rel := relPath(t, d, name)
		_, err := d.Open(name, os.O_RDONLY, 0, OpenOptions{})
		wantPathErr(t, err, "shm_open", name, syscall.EINVAL) // not a regular file
		// open(2) itself refuses O_RDWR with EISDIR; glibc turns it into EINVAL.
		want := syscall.EISDIR
		if d.OS == "linux" {
			want = syscall.EINVAL
		}
		_, err = d.Open(name, os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
		wantPathErr(t, err, "shm_open", name, want)
		_, err = d.Create(name, 1, 0o600, nil)
		wantPathErr(t, err, "shm_open", name, syscall.EEXIST)
		if d.Unlink(name) == nil {
			t.Error("Unlink removed a directory")
		}
		wantListing(t, d.Dir, rel, filepath.Join(rel, "keep"))
	})
}

func TestSymlinkInPlace(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		p, _ := d.Path(name)
		target := filepath.Join(t.TempDir(), "target")
		if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		want := syscall.ELOOP // the host's O_NOFOLLOW
		if d.OS == "solaris" {
			want = syscall.EINVAL // illumos' lstat check
		}
		for _, flag := range []int{os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREATE | os.O_TRUNC} {
			f, err := d.Open(name, flag, 0o600, OpenOptions{AllowForeignOwner: true})
			if f != nil {
				f.Close()
				t.Fatalf("Open(%#x) followed a symbolic link", flag)
			}
			// FreeBSD hosts say EMLINK for ELOOP here.
			if !errors.Is(err, want) && !(want == syscall.ELOOP && errors.Is(err, syscall.EMLINK)) {
				t.Errorf("Open(%#x) through a symbolic link: %v, want %v", flag, err, want)
			}
		}
		_, err := d.Create(name, 1, 0o600, nil)
		wantPathErr(t, err, "shm_open", name, syscall.EEXIST)
		if b, err := os.ReadFile(target); err != nil || string(b) != "precious" {
			t.Errorf("symbolic link target changed: %q, %v", b, err)
		}

		// A dangling link must not create its target either.
		if err := os.Remove(target); err != nil {
			t.Fatal(err)
		}
		if f, err := d.Open(name, os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{}); err == nil {
			f.Close()
			t.Error("Open O_CREAT through a dangling link succeeded")
		}
		if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("dangling link target created: %v", err)
		}
		// Unlink removes the link, never its target.
		if err := d.Unlink(name); err != nil {
			t.Errorf("Unlink of a symbolic link: %v", err)
		}
		wantListing(t, d.Dir)
	})
}

func TestForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skipf("chown to another uid needs root; running as uid %d", os.Geteuid())
	}
	const other = 54321
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		f, err := d.Create(name, 4096, 0o666, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		p, _ := d.Path(name)
		if err := os.Chown(p, other, other); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []int{os.O_RDWR, os.O_RDONLY, os.O_RDWR | os.O_CREATE, os.O_RDWR | os.O_TRUNC} {
			_, err := d.Open(name, flag, 0o600, OpenOptions{})
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Open(%#x) of a foreign object: %v, want fs.ErrPermission", flag, err)
			}
			wantPathErr(t, err, "shm_open", name, syscall.EPERM)
		}
		if st, err := os.Stat(p); err != nil || st.Size() != 4096 {
			t.Errorf("refused O_TRUNC open changed the object: %v, %v", st, err)
		}
		g, err := d.Open(name, os.O_RDWR, 0, OpenOptions{AllowForeignOwner: true})
		if d.OS == "openbsd" {
			wantPathErr(t, err, "shm_open", name, syscall.EPERM)
			return
		}
		if err != nil {
			t.Fatalf("Open with AllowForeignOwner: %v", err)
		}
		if st := statFile(t, g); st.Uid != other || st.Size != 4096 {
			t.Errorf("opened uid %d size %d", st.Uid, st.Size)
		}
		g.Close()
	})
}

func TestCreateAnon(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		f, err := d.CreateAnon(8192)
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, f)
		wantListing(t, d.Dir)
		st := statFile(t, f)
		if st.Size != 8192 || fs.FileMode(st.Mode)&0o777 != 0o600 || st.Nlink != 0 || st.Uid != uint32(os.Geteuid()) {
			t.Errorf("anonymous object: size %d mode %v links %d uid %d", st.Size, fs.FileMode(st.Mode)&0o777, st.Nlink, st.Uid)
		}
		if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
			t.Errorf("anonymous object is not a regular file: %#o", st.Mode)
		}
		wantCloexec(t, f)
		if _, err := f.WriteAt([]byte("anon"), 8000); err != nil {
			t.Error(err)
		}
		g, err := d.CreateAnon(0)
		if err != nil {
			t.Fatal(err)
		}
		closeLater(t, g)
		if st := statFile(t, g); st.Size != 0 || st.Ino == statFile(t, f).Ino {
			t.Errorf("second anonymous object: size %d, same inode %v", st.Size, st.Ino == statFile(t, f).Ino)
		}
		if _, err := d.CreateAnon(-1); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("CreateAnon(-1): %v, want EINVAL", err)
		}
		wantListing(t, d.Dir)
	})
}

func TestConcurrentCreate(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		files := make([]*os.File, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				files[i], errs[i] = d.Create("/race", int64(1000+i), 0o600, nil)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] == nil {
				winners++
				if st := statFile(t, files[i]); st.Size != int64(1000+i) {
					t.Errorf("winner %d has size %d", i, st.Size)
				}
				files[i].Close()
			} else if !errors.Is(errs[i], fs.ErrExist) {
				t.Errorf("loser %d: %v, want fs.ErrExist", i, errs[i])
			}
		}
		if winners != 1 {
			t.Errorf("%d winners, want exactly 1", winners)
		}
		wantListing(t, d.Dir, relPath(t, d, "/race"))
	})
}

func TestOpenBSDFlagsAndMode(t *testing.T) {
	d := rootedDialect(t, "openbsd")
	f, err := d.Create("/obj", 10, 0o666, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, flag := range []int{os.O_WRONLY, os.O_RDWR | os.O_APPEND, os.O_RDWR | os.O_SYNC, os.O_RDONLY | unix.O_DIRECTORY, os.O_RDWR | unix.O_NONBLOCK} {
		_, err := d.Open("/obj", flag, 0, OpenOptions{})
		wantPathErr(t, err, "shm_open", "/obj", syscall.EINVAL)
	}
	f, err = d.Open("/obj", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o666, OpenOptions{})
	if err != nil {
		t.Fatalf("allowed flags refused: %v", err)
	}
	if st := statFile(t, f); fs.FileMode(st.Mode)&0o777 != 0o600 {
		t.Errorf("mode %v, want 0600 (0666 & 0600)", fs.FileMode(st.Mode)&0o777)
	}
	f.Close()
	f, err = d.Open("/ro", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o444, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := statFile(t, f); fs.FileMode(st.Mode)&0o777 != 0o400 {
		t.Errorf("mode %v, want 0400 (0444 & 0600)", fs.FileMode(st.Mode)&0o777)
	}
	f.Close()

	// Other dialects pass such flags to open(2).
	l := rootedDialect(t, "linux")
	f, err = l.Open("/obj", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600, OpenOptions{})
	if err != nil {
		t.Fatalf("linux O_WRONLY|O_APPEND: %v", err)
	}
	f.Close()
}

func TestNetBSDFilesystemCheck(t *testing.T) {
	for _, tc := range []struct {
		fsType string
		mode   uint32
		ok     bool
		why    string
	}{
		{"tmpfs", 0o1777, true, ""},
		{"tmpfs", 0o777, false, "not 01777"},
		{"tmpfs", 0o1755, false, "not 01777"},
		{"ffs", 0o1777, false, "not tmpfs"},
		{"", 0o1777, false, "not tmpfs"},
	} {
		d := mustForOS(t, "netbsd").Rooted(t.TempDir())
		if err := unix.Chmod(d.Dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		d.fsType = func(string) (string, error) { return tc.fsType, nil }
		f, err := d.Create("/obj", 1, 0o600, nil)
		if tc.ok {
			if err != nil {
				t.Errorf("%s %#o: Create: %v", tc.fsType, tc.mode, err)
			} else {
				f.Close()
			}
			continue
		}
		errs := map[string]error{"Create": err}
		_, errs["Open"] = d.Open("/obj", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
		errs["Unlink"] = d.Unlink("/obj")
		_, errs["CreateAnon"] = d.CreateAnon(1)
		for op, err := range errs {
			if !errors.Is(err, syscall.ENOTSUP) || !errors.Is(err, errors.ErrUnsupported) || !bytes.Contains([]byte(err.Error()), []byte(tc.why)) {
				t.Errorf("%s %#o: %s: %v, want ENOTSUP saying %q", tc.fsType, tc.mode, op, err, tc.why)
			}
		}
		wantListing(t, d.Dir)
	}

	// A symbolic link as the directory: librt's _shm_check_fs (shm.c 1.3
	// of 2015, in every NetBSD release Go supports) opens it with
	// O_DIRECTORY and checks that descriptor, so the link is followed and
	// the target's file system and mode decide. (An older branch
	// revision, 1.1.8.2 of 2014, used lstat; no release shipped it.)
	for _, mode := range []uint32{0o1777, 0o755} {
		base := t.TempDir()
		if err := os.Mkdir(filepath.Join(base, "real"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(filepath.Join(base, "real"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("real", filepath.Join(base, "shm")); err != nil {
			t.Fatal(err)
		}
		d := mustForOS(t, "netbsd").Rooted(filepath.Join(base, "shm"))
		d.fsType = func(string) (string, error) { return "tmpfs", nil }
		f, err := d.Create("/obj", 1, 0o600, nil)
		switch {
		case mode == 0o1777 && err != nil:
			t.Errorf("symbolic link to a tmpfs of mode %#o: Create: %v", mode, err)
		case mode != 0o1777 && !errors.Is(err, syscall.ENOTSUP):
			t.Errorf("symbolic link to a tmpfs of mode %#o: Create: %v, want ENOTSUP", mode, err)
		}
		if err == nil {
			f.Close()
			if err := d.Unlink("/obj"); err != nil {
				t.Error(err)
			}
		}
	}

	// The real check on a directory of the test file system.
	real := mustForOS(t, "netbsd").Rooted(t.TempDir())
	typ, err := hostFSType(real.Dir)
	if err != nil {
		t.Fatalf("hostFSType(%s): %v", real.Dir, err)
	}
	if typ == "tmpfs" {
		if err := unix.Chmod(real.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := real.CreateAnon(1); !errors.Is(err, syscall.ENOTSUP) {
		t.Errorf("netbsd rooted in %s (%s, mode 0700): %v, want ENOTSUP", real.Dir, typ, err)
	}
}

func TestHostFSTypeDevShm(t *testing.T) {
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skipf("no /dev/shm on this host: %v", err)
	}
	typ, err := hostFSType("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	if typ != "tmpfs" {
		t.Skipf("/dev/shm is %s here, not tmpfs", typ)
	}
	d := mustForOS(t, "netbsd").Rooted("/dev/shm")
	if err := d.checkFS(d.Dir); err != nil {
		t.Errorf("netbsd rules rooted in /dev/shm: %v", err)
	}
}

func TestDragonFlyFallback(t *testing.T) {
	base := t.TempDir()
	fallback := t.TempDir()
	d := mustForOS(t, "dragonfly")
	d.Dir = filepath.Join(base, "run-shm")
	d.fallback = fallback
	p, err := d.Path("/x")
	if want := filepath.Join(fallback, "x"); err != nil || p != want {
		t.Errorf("Path without the directory = %q, %v; want %q", p, err, want)
	}
	f, err := d.Create("/x", 7, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantListing(t, fallback, "x")
	if err := d.Unlink("/x"); err != nil {
		t.Fatal(err)
	}
	wantListing(t, fallback)

	if err := os.Mkdir(d.Dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	p, err = d.Path("/x")
	if want := filepath.Join(d.Dir, "x"); err != nil || p != want {
		t.Errorf("Path with the directory = %q, %v; want %q", p, err, want)
	}
	a, err := d.CreateAnon(3)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	wantListing(t, base, "run-shm")
}

// TestDragonFlyFallbackAnyError: posixshm.c falls back to /tmp when
// open("/var/run/shm", O_RDONLY|O_DIRECTORY) fails for any reason, not
// only when the directory is missing.
func TestDragonFlyFallbackAnyError(t *testing.T) {
	base := t.TempDir()
	for name, make := range map[string]func(p string) error{
		"symbolic link loop (ELOOP)": func(p string) error { return os.Symlink(filepath.Base(p), p) },
		"regular file (ENOTDIR)":     func(p string) error { return os.WriteFile(p, nil, 0o600) },
		"dangling link (ENOENT)":     func(p string) error { return os.Symlink("nowhere", p) },
	} {
		fallback := t.TempDir()
		d := mustForOS(t, "dragonfly")
		d.Dir = filepath.Join(base, strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name))
		d.fallback = fallback
		if err := make(d.Dir); err != nil {
			t.Fatal(err)
		}
		if p, err := d.Path("/x"); err != nil || p != filepath.Join(fallback, "x") {
			t.Errorf("%s: Path = %q, %v; want it in the fallback %s", name, p, err, fallback)
		}
	}
}

// TestDragonFlyFlags: dragonfly's shm_open refuses O_WRONLY with EINVAL
// and sets F_SETFL FPOSIXSHM on every descriptor it returns.
func TestDragonFlyFlags(t *testing.T) {
	d := rootedDialect(t, "dragonfly")
	if !d.rejectWronly || !d.posixShm {
		t.Fatalf("dragonfly rules: rejectWronly %v, posixShm %v; want both", d.rejectWronly, d.posixShm)
	}
	for _, goos := range fileOS {
		if o := mustForOS(t, goos); goos != "dragonfly" && (o.rejectWronly || o.posixShm) {
			t.Errorf("%s rules take dragonfly's flags", goos)
		}
	}
	_, err := d.Open("/w", os.O_WRONLY|os.O_CREATE, 0o600, OpenOptions{})
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("O_WRONLY: %v, want EINVAL", err)
	}
	wantListing(t, d.Dir)
	f, err := d.Open("/rw", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fl&unix.O_NONBLOCK != 0 {
		t.Errorf("status flags %#x after F_SETFL FPOSIXSHM still hold O_NONBLOCK", fl)
	}
	if err := d.Unlink("/rw"); err != nil {
		t.Error(err)
	}
}

func TestSolarisStaleLock(t *testing.T) {
	for _, name := range []string{"/obj", "/" + a255} {
		d := mustForOS(t, "illumos").Rooted(t.TempDir()).LockRetry(4, 20*time.Millisecond)
		lockRel, e := d.mapName(name, solarisLockType)
		if e != 0 {
			t.Fatal(e)
		}
		lock := filepath.Join(d.Dir, lockRel)
		if err := makeHashDirs(d.Dir, lockRel); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lock, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		before := listDir(t, d.Dir)

		// Count the pauses between tries rather than time them.
		var pauses []time.Duration
		d.lockPause = func(p time.Duration) { pauses = append(pauses, p) }
		_, err := d.Open(name, os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
		if len(pauses) != 3 || pauses[0] != 20*time.Millisecond {
			t.Errorf("gave up after pauses %v, want 4 tries 20ms apart (3 pauses)", pauses)
		}
		d.lockPause = nil
		if !errors.Is(err, fs.ErrExist) {
			t.Errorf("Open under a stale lock: %v, want fs.ErrExist", err)
		}
		wantPathErr(t, err, "shm_open", name, syscall.EEXIST)
		_, err = d.Create(name, 1, 0o600, nil)
		wantPathErr(t, err, "shm_open", name, syscall.EEXIST)
		wantPathErr(t, d.Unlink(name), "shm_unlink", name, syscall.EEXIST)
		wantListing(t, d.Dir, before...) // the stale lock stays, nothing else appears

		// A lock released while we wait is taken.
		d = d.LockRetry(10000, time.Millisecond)
		go func() {
			time.Sleep(30 * time.Millisecond)
			os.Remove(lock)
		}()
		f, err := d.Create(name, 5, 0o600, nil)
		if err != nil {
			t.Fatalf("Create after the lock was released: %v", err)
		}
		f.Close()
		rel := relPath(t, d, name)
		if hash, typ, ok := hashDirs(rel); ok {
			wantListing(t, d.Dir, hash, filepath.Join(hash, typ), rel)
		} else {
			wantListing(t, d.Dir, rel)
		}
		if err := d.Unlink(name); err != nil {
			t.Fatal(err)
		}
		wantListing(t, d.Dir)
	}
}

func TestSolarisLockHeld(t *testing.T) {
	d := rootedDialect(t, "solaris")
	for _, name := range []string{"/obj", "/" + a251} {
		lockRel, _ := d.mapName(name, solarisLockType)
		held := false
		f, err := d.Create(name, 1, 0o600, func(*os.File, int64) error {
			_, err := os.Lstat(filepath.Join(d.Dir, lockRel))
			held = err == nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if !held {
			t.Errorf("%.10s…: lock file %s not held during Create", name, lockRel)
		}
		if _, err := os.Lstat(filepath.Join(d.Dir, lockRel)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("lock file left behind: %v", err)
		}
		if err := d.Unlink(name); err != nil {
			t.Fatal(err)
		}
		wantListing(t, d.Dir)
	}

	// A symbolic link where the lock file goes is EINVAL.
	if err := os.Symlink("/nonexistent", filepath.Join(d.Dir, ".SHMLobj")); err != nil {
		t.Fatal(err)
	}
	_, err := d.Open("/obj", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
	wantPathErr(t, err, "shm_open", "/obj", syscall.EINVAL)
}

func TestSolarisLongNames(t *testing.T) {
	d := rootedDialect(t, "solaris")
	long := "/" + a251
	rel := relPath(t, d, long)
	f, err := d.Create(long, 64, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	hash := filepath.Dir(filepath.Dir(rel))
	wantListing(t, d.Dir, hash, filepath.Join(hash, ".SHMD"), rel)
	for _, dir := range []string{hash, filepath.Join(hash, ".SHMD")} {
		st, err := os.Stat(filepath.Join(d.Dir, dir))
		if err != nil || st.Mode().Perm() != 0o777 {
			t.Errorf("%s: %v, %v; want mode 0777 despite the umask", dir, st.Mode(), err)
		}
	}
	g, err := d.Open(long, os.O_RDONLY, 0, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	// Opening a missing long name leaves no directories behind.
	if _, err := d.Open("/"+a255, os.O_RDONLY, 0, OpenOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing long name: %v", err)
	}
	wantListing(t, d.Dir, hash, filepath.Join(hash, ".SHMD"), rel)
	if err := d.Unlink(long); err != nil {
		t.Fatal(err)
	}
	wantListing(t, d.Dir)
}

func TestKernelDialectsRefuseFiles(t *testing.T) {
	for _, goos := range []string{"freebsd", "darwin"} {
		d := mustForOS(t, goos)
		_, err := d.Open("/x", os.O_RDWR, 0, OpenOptions{})
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s Open: %v", goos, err)
		}
		if _, err := d.Create("/x", 1, 0o600, nil); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s Create: %v", goos, err)
		}
		if _, err := d.CreateAnon(1); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s CreateAnon: %v", goos, err)
		}
		if err := d.Unlink("/x"); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s Unlink: %v", goos, err)
		}
		wantPathErr(t, d.Unlink(""), "shm_unlink", "", syscall.EINVAL)
		_, err = d.Open("", os.O_RDWR, 0, OpenOptions{})
		wantPathErr(t, err, "shm_open", "", syscall.EINVAL)
		_, err = d.Create("/a/../b", 1, 0o600, nil)
		wantPathErr(t, err, "shm_open", "/a/../b", syscall.EINVAL)
	}
}

// TestFIFOInPlace puts a FIFO where the object goes: Open must neither
// block on it nor accept it.
func TestFIFOInPlace(t *testing.T) {
	forEachFileDialect(t, func(t *testing.T, d *Dialect) {
		const name = "/obj"
		p, _ := d.Path(name)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		flags := []int{os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREATE}
		errs := make(chan error, len(flags))
		go func() {
			for _, flag := range flags {
				f, err := d.Open(name, flag, 0o600, OpenOptions{})
				if f != nil {
					f.Close()
				}
				errs <- err
			}
		}()
		for range flags {
			select {
			case err := <-errs:
				wantPathErr(t, err, "shm_open", name, syscall.EINVAL)
			case <-time.After(10 * time.Second):
				t.Fatal("Open blocked on a FIFO for 10s")
			}
		}
		wantListing(t, d.Dir, relPath(t, d, name))
	})
}
