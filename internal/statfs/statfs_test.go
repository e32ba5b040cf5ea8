package statfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shmkit/shm/internal/statfs"
)

func TestStat(t *testing.T) {
	f, err := statfs.Stat(t.TempDir())
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Stat on %s: %v, want an error wrapping ErrUnsupported", runtime.GOOS, err)
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
	p := filepath.Join(t.TempDir(), "missing")
	_, err := statfs.Stat(p)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != p {
		t.Fatalf("Stat(%s): %v, want a *fs.PathError naming it", p, err)
	}
	if runtime.GOOS != "windows" && !errors.Is(err, fs.ErrNotExist) {
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
