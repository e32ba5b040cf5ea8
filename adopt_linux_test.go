package shm_test

import (
	"errors"
	"os"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// TestNewObjectRejectsDiskFile: on Linux a regular file is shared memory
// only on tmpfs, hugetlbfs or ramfs.
func TestNewObjectRejectsDiskFile(t *testing.T) {
	var sfs unix.Statfs_t
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Skipf("cannot statfs the working directory: %v", err)
	}
	if sfs.Type == 0x01021994 {
		t.Skipf("the working directory %s is on tmpfs: no disk file to try", dir)
	}
	f, err := os.CreateTemp(dir, ".shm-test-*")
	if err != nil {
		t.Skipf("cannot create a file in %s: %v", dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := shm.NewObject(f); !errors.Is(err, shm.ErrNotMemory) {
		t.Errorf("NewObject(file on disk): %v, want ErrNotMemory", err)
	}
}
