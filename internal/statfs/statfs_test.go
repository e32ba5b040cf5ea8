package statfs_test

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/shmkit/shm/internal/statfs"
)

// unsupported reports whether Stat has no implementation on this OS.
func unsupported() bool {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		return true
	}
	return false
}

// dir returns a directory to look at: a fresh one where statfs works; the
// system's temporary directory elsewhere, where nothing is created (under
// wine, t.TempDir's cleanup fails).
func dir(t *testing.T) string {
	if unsupported() {
		return os.TempDir()
	}
	return t.TempDir()
}

func TestStat(t *testing.T) {
	f, err := statfs.Stat(dir(t))
	if unsupported() {
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), runtime.GOOS) {
			t.Fatalf("Stat on %s: %v, want an error wrapping ErrUnsupported that names the OS", runtime.GOOS, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if f.Type == "" || f.Size == 0 || f.Free > f.Size {
		t.Fatalf("Stat(a temporary directory) = %+v", f)
	}
}

func TestStatMissing(t *testing.T) {
	p := filepath.Join(dir(t), "shm-statfs-missing-"+strconv.FormatUint(rand.Uint64(), 36))
	_, err := statfs.Stat(p)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != p {
		t.Fatalf("Stat(%s): %v, want a *fs.PathError naming it", p, err)
	}
	if !unsupported() && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(%s): %v, want fs.ErrNotExist", p, err)
	}
}

func TestStatDevShm(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("/dev/shm is a Linux convention; this is %s", runtime.GOOS)
	}
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skipf("no /dev/shm on this host: %v", err)
	}
	f, err := statfs.Stat("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != "tmpfs" {
		t.Fatalf("/dev/shm is %q, want tmpfs", f.Type)
	}
}
