//go:build freebsd || darwin

package kern

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"testing"

	"golang.org/x/sys/unix"
)

// testName returns a fresh object name valid on FreeBSD (leading '/') and
// darwin (at most 31 bytes) and unlinks it when the test ends.
func testName(t *testing.T) string {
	t.Helper()
	name := "/kt" + hex.EncodeToString(randBytes(t, 8))
	t.Cleanup(func() {
		if err := ShmUnlink(name); err != nil && err != unix.ENOENT {
			t.Errorf("cleanup: ShmUnlink(%q): %v", name, err)
		}
	})
	return name
}

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// closeLater closes fd when the test ends.
func closeLater(t *testing.T, fd int) {
	t.Helper()
	t.Cleanup(func() {
		if err := unix.Close(fd); err != nil {
			t.Errorf("close(%d): %v", fd, err)
		}
	})
}

func checkCloexec(t *testing.T, fd int) {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("fcntl(F_GETFD): %v", err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d is not close-on-exec", fd)
	}
}

// mapShared maps n bytes of fd read-write and shared, unmapping at the end.
func mapShared(t *testing.T, fd, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(fd, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Munmap(b); err != nil {
			t.Errorf("munmap: %v", err)
		}
	})
	return b
}

func TestShmOpenCreateUnlink(t *testing.T) {
	name := testName(t)
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	closeLater(t, fd)
	checkCloexec(t, fd)

	_, err = ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != unix.EEXIST || !errors.Is(err, fs.ErrExist) {
		t.Errorf("second exclusive create: err = %v, want EEXIST", err)
	}

	fd2, err := ShmOpen(name, unix.O_RDWR, 0)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	closeLater(t, fd2)
	checkCloexec(t, fd2)

	if err := ShmUnlink(name); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	if fd3, err := ShmOpen(name, unix.O_RDWR, 0); err != unix.ENOENT || !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			unix.Close(fd3)
		}
		t.Errorf("open after unlink: err = %v, want ENOENT", err)
	}
	if err := ShmUnlink(name); err != unix.ENOENT {
		t.Errorf("second unlink: err = %v, want ENOENT", err)
	}
}

func TestShmOpenSharedMapping(t *testing.T) {
	name := testName(t)
	size := unix.Getpagesize() * 2
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	closeLater(t, fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("fstat: %v", err)
	}
	if st.Size != int64(size) {
		t.Errorf("st_size = %d, want %d", st.Size, size)
	}

	fd2, err := ShmOpen(name, unix.O_RDWR, 0)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	closeLater(t, fd2)
	a := mapShared(t, fd, size)
	b := mapShared(t, fd2, size)
	want := randBytes(t, size)
	copy(a, want)
	if !bytes.Equal(b, want) {
		t.Error("data written through one mapping is not visible through the other")
	}
	// The object outlives its name while mapped.
	if err := ShmUnlink(name); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	b[0] ^= 0xff
	if a[0] != want[0]^0xff {
		t.Error("mappings diverged after unlink")
	}
}

func TestShmOpenReadOnly(t *testing.T) {
	name := testName(t)
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	closeLater(t, fd)
	if err := unix.Ftruncate(fd, int64(unix.Getpagesize())); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	ro, err := ShmOpen(name, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}
	closeLater(t, ro)
	b, err := unix.Mmap(ro, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err == nil {
		unix.Munmap(b)
		t.Fatal("writable shared mapping of a read-only descriptor succeeded")
	}
	if err != unix.EACCES && err != unix.EPERM {
		t.Errorf("writable mapping of read-only fd: err = %v, want EACCES or EPERM", err)
	}
}

func TestShmNameWithNUL(t *testing.T) {
	if _, err := ShmOpen("/kt\x00x", unix.O_RDWR|unix.O_CREAT, 0o600); err != unix.EINVAL {
		t.Errorf("ShmOpen with NUL: err = %v, want EINVAL", err)
	}
	if err := ShmUnlink("/kt\x00x"); err != unix.EINVAL {
		t.Errorf("ShmUnlink with NUL: err = %v, want EINVAL", err)
	}
}
