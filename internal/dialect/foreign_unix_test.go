//go:build unix

package dialect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func init() {
	helpers["foreign"] = helperForeign
}

// helperForeign (args: goos, dir, name) tries name as another user would
// and prints one word per attempt: "ok" or the errno's name.
func helperForeign(args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "foreign: want goos, dir, name; got %q\n", args)
		return 2
	}
	d, err := helperDialect(args[0], args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	name := args[2]
	word := func(err error) string {
		if err == nil {
			return "ok"
		}
		var e syscall.Errno
		if !errors.As(err, &e) {
			return "other:" + err.Error()
		}
		return unix.ErrnoName(e)
	}
	open := func(flag int, opt OpenOptions) string {
		f, err := d.Open(name, flag, 0, opt)
		if err == nil {
			f.Close()
		}
		return word(err)
	}
	fmt.Println(strings.Join([]string{
		"ro=" + open(os.O_RDONLY, OpenOptions{}),
		"ro-allow=" + open(os.O_RDONLY, OpenOptions{AllowForeignOwner: true}),
		"rw-allow=" + open(os.O_RDWR, OpenOptions{AllowForeignOwner: true}),
		"unlink=" + word(d.Unlink(name)),
	}, " "))
	return 0
}

// TestForeignUserProcess runs another user's process against an object
// made by root in a sticky directory: the owner check, the permission
// bits and the sticky bit all hold, with each libc's errno (glibc turns
// the EPERM of unlink into EACCES).
func TestForeignUserProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skipf("running a process as another uid needs root; running as uid %d", os.Geteuid())
	}
	const other = 54321
	// The other user needs a readable copy of the test binary and a
	// path to the directories.
	root, err := os.MkdirTemp("", "dialect-foreign-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(root, "dialect.test")
	copyExecutable(t, exe)

	want := map[string]string{
		"linux":     "ro=EPERM ro-allow=ok rw-allow=EACCES unlink=EACCES",
		"openbsd":   "ro=EACCES ro-allow=EACCES rw-allow=EACCES unlink=EPERM", // mode 0644 & 0600
		"netbsd":    "ro=EPERM ro-allow=ok rw-allow=EACCES unlink=EPERM",
		"dragonfly": "ro=EPERM ro-allow=ok rw-allow=EACCES unlink=EPERM",
		"solaris":   "ro=EPERM ro-allow=ok rw-allow=EACCES unlink=EPERM",
	}
	for _, goos := range fileOS {
		t.Run(goos, func(t *testing.T) {
			dir := filepath.Join(root, goos)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Chmod(dir, 0o1777); err != nil {
				t.Fatal(err)
			}
			d, err := helperDialect(goos, dir)
			if err != nil {
				t.Fatal(err)
			}
			f, err := d.Create("/obj", 100, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			rel := relPath(t, d, "/obj")

			cmd := helperCommand(t, "foreign", goos, dir, "/obj")
			cmd.Path, cmd.Args[0] = exe, exe
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: other, Gid: other}}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child as uid %d: %v; stderr: %s", other, err, stderr.String())
			}
			if got := strings.TrimSpace(string(out)); got != want[goos] {
				t.Errorf("another user got %q, want %q", got, want[goos])
			}
			wantListing(t, dir, rel) // the object stays, no lock file is left
		})
	}
}

// copyExecutable copies the running test binary to dst, mode 0755.
func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
