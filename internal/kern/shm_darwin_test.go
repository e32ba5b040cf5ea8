package kern

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// withUmask0 clears the umask for the rest of the test so that modes arrive
// unchanged. Tests in this package do not run in parallel.
func withUmask0(t *testing.T) {
	old := unix.Umask(0)
	t.Cleanup(func() { unix.Umask(old) })
}

// The mode is shm_open's variadic argument: on arm64 it travels on the
// stack, so a wrong calling sequence shows up as a wrong mode.
func TestDarwinModeArrives(t *testing.T) {
	withUmask0(t)
	for _, mode := range []uint32{0o640, 0o604, 0o600} {
		name := testName(t)
		fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, mode)
		if err != nil {
			t.Fatalf("create mode %#o: %v", mode, err)
		}
		closeLater(t, fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		if got := uint32(st.Mode) & 0o777; got != mode {
			t.Errorf("mode %#o: st_mode = %#o", mode, st.Mode)
		}
		// xnu's pshm_stat reports only the permission bits.
		if st.Mode&unix.S_IFMT != 0 {
			t.Logf("st_mode %#o has file type bits %#o (NOTES.md says none)", st.Mode, st.Mode&unix.S_IFMT)
		}
	}
}

// xnu applies no umask to shm_open's mode (NOTES.md).
func TestDarwinNoUmask(t *testing.T) {
	old := unix.Umask(0o077)
	t.Cleanup(func() { unix.Umask(old) })
	name := testName(t)
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.Mode & 0o777; got != 0o644 {
		t.Errorf("mode 0644 under umask 077: st_mode = %#o, want 0644 (NOTES.md says no umask)", st.Mode)
	}
}

func TestDarwinNameLength(t *testing.T) {
	long := "/" + strings.Repeat("k", 31) // 32 bytes
	if fd, err := ShmOpen(long, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600); err != unix.ENAMETOOLONG {
		if err == nil {
			unix.Close(fd)
			ShmUnlink(long)
		}
		t.Errorf("32-byte name: err = %v, want ENAMETOOLONG", err)
	}
	name := testName(t)
	longest := name + strings.Repeat("m", 31-len(name))
	t.Cleanup(func() { ShmUnlink(longest) })
	fd, err := ShmOpen(longest, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("31-byte name %q: %v", longest, err)
	}
	closeLater(t, fd)
	if err := ShmUnlink(longest); err != nil {
		t.Errorf("unlink 31-byte name: %v", err)
	}
}

func TestDarwinSlashNotSpecial(t *testing.T) {
	name := testName(t)
	bare := strings.TrimPrefix(name, "/")
	t.Cleanup(func() { ShmUnlink(bare) })
	for _, n := range []string{name, bare} {
		fd, err := ShmOpen(n, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
		if err != nil {
			t.Fatalf("create %q: %v (\"/x\" and \"x\" should be different objects)", n, err)
		}
		closeLater(t, fd)
	}
}

func TestDarwinTruncateOnce(t *testing.T) {
	name := testName(t)
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, fd)
	page := unix.Getpagesize()
	if err := unix.Ftruncate(fd, 1); err != nil {
		t.Fatalf("first ftruncate: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(page) {
		t.Errorf("st_size after ftruncate(1) = %d, want the page size %d", st.Size, page)
	}
	if err := unix.Ftruncate(fd, int64(2*page)); err != unix.EINVAL {
		t.Errorf("second ftruncate: err = %v, want EINVAL", err)
	}
	if _, err := unix.Mmap(fd, 0, page, unix.PROT_READ, unix.MAP_PRIVATE); err != unix.EINVAL {
		t.Errorf("MAP_PRIVATE: err = %v, want EINVAL", err)
	}
	// O_TRUNC on an object with storage is refused.
	if fd2, err := ShmOpen(name, unix.O_RDWR|unix.O_TRUNC, 0); err != unix.EINVAL {
		if err == nil {
			unix.Close(fd2)
		}
		t.Errorf("O_TRUNC after ftruncate: err = %v, want EINVAL", err)
	}
}

func TestDarwinNoRename(t *testing.T) {
	err := ShmRename("/a", "/b", RenameNoReplace)
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), runtime.GOOS) {
		t.Errorf("ShmRename: err = %v, want ErrUnsupported naming %s", err, runtime.GOOS)
	}
}
