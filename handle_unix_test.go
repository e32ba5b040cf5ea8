//go:build unix

package shm

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseWaitsForOperation: Close during an operation leaves the
// descriptor open until the operation ends, then closes it.
func TestCloseWaitsForOperation(t *testing.T) {
	o, err := CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	var inode uint64
	err = o.control("test", func(fd int) error {
		if err := o.Close(); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Errorf("descriptor closed under a running operation: %v", err)
		}
		inode = st.Ino
		if o.h.acquire() {
			t.Error("a new operation started on a closed object")
			o.h.release()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(o.h.fd, &st); err == nil && st.Ino == inode {
		t.Error("descriptor still open after the last operation ended")
	} else if err != nil && !errors.Is(err, unix.EBADF) {
		t.Errorf("fstat of the closed descriptor: %v, want EBADF", err)
	}
}
