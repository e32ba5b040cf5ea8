package shm_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

func init() {
	registerHelper("open-named", helperOpenNamed)
}

// buildC compiles testdata/NAME.c with the system C compiler, or skips
// the test saying why it cannot.
func buildC(t *testing.T, name string) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) on this host: %v; .ci/run installs gcc", cc, err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(cc, "-O2", "-Wall", "-o", out, filepath.Join("testdata", name+".c"), "-lrt")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/%s.c: %v\n%s", name, err, b)
	}
	return out
}

// TestCInterop: an object made by shm is the one C's shm_open opens, and
// the other way round.
func TestCInterop(t *testing.T) {
	cshm := buildC(t, "cshm")
	run := func(args ...string) (int, string) {
		out, err := exec.Command(cshm, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}

	t.Run("GoCreatesCReadsAndWrites", func(t *testing.T) {
		name := testName(t)
		o, err := shm.Create(name, 4096, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		m, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		copy(m.Bytes(), "hello from Go")
		if code, out := run("check", name, "hello from Go"); code != 0 {
			t.Fatalf("C side: exit %d: %s", code, out)
		}
		if got := string(m.Bytes()[1024:1036]); got != "hello from C" {
			t.Errorf("Go reads %q where C wrote", got)
		}
	})

	t.Run("CCreatesGoOpens", func(t *testing.T) {
		name := testName(t)
		if code, out := run("create", name, "8192", "made in C"); code != 0 {
			t.Fatalf("C side: exit %d: %s", code, out)
		}
		o, err := shm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if size, _ := o.Size(); size != 8192 {
			t.Errorf("size %d, want 8192", size)
		}
		m, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if got := string(m.Bytes()[:9]); got != "made in C" {
			t.Errorf("Go reads %q", got)
		}
		// Names C's shm_open strips the same way: "x", "/x", "//x" are one object.
		bare := strings.TrimLeft(name, "/")
		o2, err := shm.Open("//" + bare)
		if err != nil {
			t.Fatalf("Open(//%s): %v", bare, err)
		}
		o2.Close()
	})

	t.Run("CUnlinksGoSeesNotExist", func(t *testing.T) {
		name := testName(t)
		o, err := shm.Create(name, 4096, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if code, out := run("unlink", name); code != 0 {
			t.Fatalf("C unlink: exit %d: %s", code, out)
		}
		if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open after C's shm_unlink: %v, want fs.ErrNotExist", err)
		}
		if err := o.Check(); !errors.Is(err, shm.ErrNameLost) {
			t.Errorf("Check after C's shm_unlink: %v, want ErrNameLost", err)
		}
	})

	t.Run("GoUnlinksCSeesENOENT", func(t *testing.T) {
		name := testName(t)
		o, err := shm.Create(name, 4096, 0)
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
		if code, _ := run("exists", name); code != 0 {
			t.Fatalf("C cannot see %s", name)
		}
		if err := shm.Unlink(name); err != nil {
			t.Fatal(err)
		}
		if code, out := run("exists", name); code != 3 {
			t.Errorf("C after Go's Unlink: exit %d (%s), want 3 (ENOENT)", code, out)
		}
	})
}

func TestNamedPathLinux(t *testing.T) {
	name := testName(t)
	p, err := shm.NamePath(name)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/dev/shm/" + strings.TrimLeft(name, "/"); p != want {
		t.Errorf("NamePath(%q) = %q, want %q", name, p, want)
	}
	o, err := shm.Create(name, 4096, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 || !st.Mode().IsRegular() {
		t.Errorf("%s: mode %v, want -rw-r-----", p, st.Mode())
	}
	if got, _ := o.Path(); got != p {
		t.Errorf("Path() = %q, want %q", got, p)
	}
	if o.Strategy() != "named-linux" {
		t.Errorf("Strategy() = %q", o.Strategy())
	}
}

// TestNamedNotAFile: a directory or a symbolic link where the object
// should be is refused, and the link's target is left alone.
func TestNamedNotAFile(t *testing.T) {
	name := testName(t)
	p, _ := shm.NamePath(name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
	if _, err := shm.Open(name); err == nil {
		t.Error("Open of a directory succeeded")
	} else {
		t.Logf("directory: %v", err)
	}
	if _, err := shm.Create(name, 4096, 0); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a directory: %v, want fs.ErrExist", err)
	}
	os.Remove(p)

	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
	if o, err := shm.Open(name); err == nil {
		o.Close()
		t.Error("Open through a symbolic link succeeded")
	} else if !errors.Is(err, unix.ELOOP) {
		t.Errorf("Open through a symbolic link: %v, want ELOOP", err)
	}
	if _, err := shm.Create(name, 4096, 0); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a symbolic link: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("the link's target changed: %q", b)
	}
}

// TestForeignOwner: an object owned by another user is refused unless the
// caller opts in.
func TestForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give an object to another user")
	}
	name := testName(t)
	o, err := shm.Create(name, 4096, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	p, _ := shm.NamePath(name)
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := shm.Open(name); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "uid 65534") {
		t.Errorf("Open of another user's object: %v, want fs.ErrPermission naming uid 65534", err)
	}
	o, err = shm.Open(name, shm.AllowForeignOwner())
	if err != nil {
		t.Fatalf("Open with AllowForeignOwner: %v", err)
	}
	o.Close()
}

// helperOpenNamed opens args[0] and reports the error class on stdout.
func helperOpenNamed(args []string) int {
	o, err := shm.Open(args[0], shm.AllowForeignOwner())
	switch {
	case err == nil:
		o.Close()
		fmt.Print("ok")
	case errors.Is(err, fs.ErrPermission):
		fmt.Print("permission")
	default:
		fmt.Print(err)
	}
	return 0
}

// TestOpenDenied: another user cannot open a 0600 object (EACCES), and the
// error satisfies fs.ErrPermission. The test binary is copied where the
// unprivileged user can run it.
func TestOpenDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a helper as another user")
	}
	name := testName(t)
	o, err := shm.Create(name, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "shm-denied-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	copyExe := filepath.Join(dir, "shm.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyExe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^$", "--", name)
	cmd.Env = append(os.Environ(), helperEnv+"=open-named")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("cannot run a helper as uid 65534 here: %v", err)
	}
	if string(out) != "permission" {
		t.Errorf("uid 65534 opening a 0600 root object: %q, want permission", out)
	}
}

// TestCreateFullTmpfs: on a full tmpfs Create fails at once with ENOSPC
// (the memory is reserved with fallocate) and leaves nothing behind.
func TestCreateFullTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=1777"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v): needs root and mount rights", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	restore, err := shm.UseDialect("linux", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	_, err = shm.Create("/big", 4<<20, 0)
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("Create of 4 MiB on a 1 MiB tmpfs: %v, want ENOSPC", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a failed Create left %d entries behind", len(ents))
	}
	o, err := shm.Create("/small", 64<<10, 0)
	if err != nil {
		t.Fatalf("Create of 64 KiB: %v", err)
	}
	o.Close()
	shm.Unlink("/small")
}

// TestDialectsRooted runs the named-object suite with every file
// dialect's rules, rooted in a temporary directory.
func TestDialectsRooted(t *testing.T) {
	for _, goos := range []string{"linux", "openbsd", "netbsd", "dragonfly", "solaris"} {
		t.Run(goos, func(t *testing.T) {
			dir := t.TempDir()
			if goos == "netbsd" {
				// NetBSD's libc wants a tmpfs with mode 01777.
				var err error
				dir, err = os.MkdirTemp("/dev/shm", "shm-netbsd-test-*")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				if err := os.Chmod(dir, fs.ModeSticky|0o777); err != nil {
					t.Fatal(err)
				}
			}
			restore, err := shm.UseDialect(goos, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			name := "/portable-name"
			o, err := shm.Create(name, 8192, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			p, err := o.Path()
			if err != nil || !strings.HasPrefix(p, dir) {
				t.Fatalf("Path() = %q, %v; want a file under %s", p, err, dir)
			}
			if _, err := os.Lstat(p); err != nil {
				t.Fatal(err)
			}
			if _, err := shm.Create(name, 8192, 0); !errors.Is(err, fs.ErrExist) {
				t.Errorf("second Create: %v", err)
			}
			o2, err := shm.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			if size, _ := o2.Size(); size != 8192 {
				t.Errorf("size %d", size)
			}
			o2.Close()
			if err := o.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if err := shm.Unlink(name); err != nil {
				t.Fatal(err)
			}
			if err := o.Check(); !errors.Is(err, shm.ErrNameLost) {
				t.Errorf("Check after Unlink: %v", err)
			}
			if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open after Unlink: %v", err)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}
