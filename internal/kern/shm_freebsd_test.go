package kern

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFreeBSDSyscallNumbers(t *testing.T) {
	// The numbers taken from x/sys must be the ones in syscalls.master;
	// shm_open2 and shm_rename follow shm_unlink's generation.
	if unix.SYS_SHM_OPEN != 482 || unix.SYS_SHM_UNLINK != 483 {
		t.Errorf("SYS_SHM_OPEN, SYS_SHM_UNLINK = %d, %d; want 482, 483", unix.SYS_SHM_OPEN, unix.SYS_SHM_UNLINK)
	}
}

func TestShmOpenAnon(t *testing.T) {
	fd, strategy, err := ShmOpenAnon()
	if err != nil {
		t.Fatalf("ShmOpenAnon: %v", err)
	}
	closeLater(t, fd)
	t.Logf("strategy %s", strategy)
	checkCloexec(t, fd)
	size := unix.Getpagesize()
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(size) || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("fstat: size %d mode %#o, want %d and S_IFREG", st.Size, st.Mode, size)
	}
	a := mapShared(t, fd, size)
	b := mapShared(t, fd, size)
	want := randBytes(t, size)
	copy(a, want)
	if !bytes.Equal(b, want) {
		t.Error("two shared mappings of one anonymous object differ")
	}

	switch strategy {
	case StrategyShmOpen2:
		testSeals(t, fd, size)
	case StrategyShmOpen:
		t.Logf("kernel without shm_open2: seals not tested")
	default:
		t.Errorf("strategy %q", strategy)
	}
}

func testSeals(t *testing.T, fd, size int) {
	t.Helper()
	seals, err := unix.FcntlInt(uintptr(fd), FGetSeals, 0)
	if err != nil || seals != 0 {
		t.Fatalf("F_GET_SEALS on a new object = %#x, %v; want 0", seals, err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), FAddSeals, SealGrow|SealShrink); err != nil {
		t.Fatalf("F_ADD_SEALS: %v", err)
	}
	if seals, err = unix.FcntlInt(uintptr(fd), FGetSeals, 0); err != nil || seals != SealGrow|SealShrink {
		t.Errorf("F_GET_SEALS = %#x, %v; want %#x", seals, err, SealGrow|SealShrink)
	}
	if err := unix.Ftruncate(fd, int64(2*size)); err != unix.EPERM {
		t.Errorf("growing a SEAL_GROW object: err = %v, want EPERM", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), FAddSeals, SealSeal); err != nil {
		t.Fatalf("F_ADD_SEALS(SEAL_SEAL): %v", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), FAddSeals, SealWrite); err != unix.EPERM {
		t.Errorf("sealing after SEAL_SEAL: err = %v, want EPERM", err)
	}
}

// Without ShmAllowSealing a new object starts sealed with SEAL_SEAL.
func TestShmOpen2NoSealing(t *testing.T) {
	fd, err := ShmOpen2("", unix.O_RDWR|unix.O_CLOEXEC, 0o600, 0, "kern-test")
	if err == unix.ENOSYS {
		t.Skipf("kernel without shm_open2: %v", err)
	}
	if err != nil {
		t.Fatalf("ShmOpen2(SHM_ANON): %v", err)
	}
	closeLater(t, fd)
	seals, err := unix.FcntlInt(uintptr(fd), FGetSeals, 0)
	if err != nil || seals != SealSeal {
		t.Errorf("F_GET_SEALS = %#x, %v; want SEAL_SEAL", seals, err)
	}
}

func TestShmOpen2Rejects(t *testing.T) {
	name := testName(t)
	cases := []struct {
		what     string
		path     string
		flags    int
		shmflags int
	}{
		{"O_NOFOLLOW", name, unix.O_RDWR | unix.O_CREAT | unix.O_NOFOLLOW, 0},
		{"unknown shmflags", name, unix.O_RDWR | unix.O_CREAT, 0x100},
		{"SHM_ANON read-only", "", unix.O_RDONLY, 0},
		{"no leading slash", name[1:], unix.O_RDWR | unix.O_CREAT, 0},
	}
	for _, c := range cases {
		fd, err := ShmOpen2(c.path, c.flags, 0o600, c.shmflags, "")
		if err == unix.ENOSYS {
			t.Skipf("kernel without shm_open2: %v", err)
		}
		if err == nil {
			unix.Close(fd)
		}
		if err != unix.EINVAL {
			t.Errorf("%s: err = %v, want EINVAL", c.what, err)
		}
	}
	if _, err := ShmOpen("", unix.O_RDWR|unix.O_CREAT, 0o600); err != unix.EINVAL {
		t.Errorf(`ShmOpen(""): err = %v, want EINVAL`, err)
	}
	if _, err := ShmOpen2("/kt\x00", unix.O_RDWR, 0, 0, ""); err != unix.EINVAL {
		t.Errorf("ShmOpen2 path with NUL: err = %v, want EINVAL", err)
	}
	if _, err := ShmOpen2("", unix.O_RDWR, 0, 0, "a\x00b"); err != unix.EINVAL {
		t.Errorf("ShmOpen2 name with NUL: err = %v, want EINVAL", err)
	}
}

// An existing object opened with different non-zero shmflags is refused.
func TestShmOpen2FlagsMismatch(t *testing.T) {
	name := testName(t)
	fd, err := ShmOpen2(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600, ShmAllowSealing, "")
	if err == unix.ENOSYS {
		t.Skipf("kernel without shm_open2: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, fd)
	if fd2, err := ShmOpen2(name, unix.O_RDWR|unix.O_CLOEXEC, 0, ShmGrowOnWrite, ""); err != unix.EINVAL {
		if err == nil {
			unix.Close(fd2)
		}
		t.Errorf("reopen with other shmflags: err = %v, want EINVAL", err)
	}
	fd3, err := ShmOpen(name, unix.O_RDWR, 0)
	if err != nil {
		t.Fatalf("reopen with shmflags 0: %v", err)
	}
	closeLater(t, fd3)
}

// writeObject creates name holding data, a page long.
func writeObject(t *testing.T, name string, data byte) {
	t.Helper()
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(unix.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fd, []byte{data}, 0); err != nil {
		t.Fatalf("pwrite: %v", err)
	}
}

// readObject returns the first byte of name, or the open error.
func readObject(t *testing.T, name string) (byte, error) {
	t.Helper()
	fd, err := ShmOpen(name, unix.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var b [1]byte
	if _, err := unix.Pread(fd, b[:], 0); err != nil {
		t.Fatalf("pread %s: %v", name, err)
	}
	return b[0], nil
}

func TestShmRename(t *testing.T) {
	a, b, c := testName(t), testName(t), testName(t)
	writeObject(t, a, 'a')
	if err := ShmRename(a, b, 0); err == unix.ENOSYS {
		t.Skipf("kernel without shm_rename: %v", err)
	} else if err != nil {
		t.Fatalf("rename %s → %s: %v", a, b, err)
	}
	if _, err := readObject(t, a); err != unix.ENOENT {
		t.Errorf("old name after rename: err = %v, want ENOENT", err)
	}
	if got, err := readObject(t, b); err != nil || got != 'a' {
		t.Errorf("new name: %q, %v; want 'a'", got, err)
	}

	writeObject(t, c, 'c')
	if err := ShmRename(b, c, RenameNoReplace); err != unix.EEXIST {
		t.Errorf("RenameNoReplace onto an existing name: err = %v, want EEXIST", err)
	}
	if err := ShmRename(b, c, RenameExchange); err != nil {
		t.Fatalf("RenameExchange: %v", err)
	}
	gotB, errB := readObject(t, b)
	gotC, errC := readObject(t, c)
	if errB != nil || errC != nil || gotB != 'c' || gotC != 'a' {
		t.Errorf("after exchange: b=%q (%v) c=%q (%v); want 'c' and 'a'", gotB, errB, gotC, errC)
	}
	if err := ShmRename(b, c, RenameNoReplace|RenameExchange); err != unix.EINVAL {
		t.Errorf("both flags: err = %v, want EINVAL", err)
	}
	// Plain rename replaces the destination.
	if err := ShmRename(b, c, 0); err != nil {
		t.Fatalf("replacing rename: %v", err)
	}
	if got, err := readObject(t, c); err != nil || got != 'c' {
		t.Errorf("after replacing rename: %q, %v; want 'c'", got, err)
	}
	if err := ShmRename(a, c, 0); err != unix.ENOENT {
		t.Errorf("renaming a missing object: err = %v, want ENOENT", err)
	}
	if err := ShmRename("/kt\x00", c, 0); err != unix.EINVAL {
		t.Errorf("rename from a name with NUL: err = %v, want EINVAL", err)
	}
}

// The pre-FreeBSD-13 path: GENERIC kernels keep the old shm_open as
// freebsd12_shm_open under COMPAT_FREEBSD12.
func TestShmOpenLegacy(t *testing.T) {
	fd, err := shmOpenLegacy(shmAnon, unix.O_RDWR, 0o600)
	if err == unix.ENOSYS {
		t.Skipf("kernel without the old shm_open (no COMPAT_FREEBSD12): %v", err)
	}
	if err != nil {
		t.Fatalf("old shm_open(SHM_ANON): %v", err)
	}
	closeLater(t, fd)
	checkCloexec(t, fd)
	if err := unix.Ftruncate(fd, int64(unix.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	mapShared(t, fd, unix.Getpagesize())[0] = 1
}

func TestListFreeBSD(t *testing.T) {
	old := unix.Umask(0)
	t.Cleanup(func() { unix.Umask(old) })
	name := testName(t)
	fd, err := ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	closeLater(t, fd)
	size := 3 * unix.Getpagesize()
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	entries, err := ListFreeBSD()
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			t.Skipf("kernel without %s: %v", listMIB, err)
		}
		t.Fatalf("ListFreeBSD: %v", err)
	}
	var found *Entry
	for i := range entries {
		if entries[i].Path == name {
			found = &entries[i]
		}
	}
	if found == nil {
		t.Fatalf("%s not among %d listed objects", name, len(entries))
	}
	if found.Size != int64(size) || found.Mode != unix.S_IFREG|0o640 || found.Perm() != 0o640 {
		t.Errorf("entry %+v, want size %d mode %#o", *found, size, unix.S_IFREG|0o640)
	}
	if err := ShmUnlink(name); err != nil {
		t.Fatal(err)
	}
	entries, err = ListFreeBSD()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Path == name {
			t.Errorf("%s still listed after unlink", name)
		}
	}
}
