package lock

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func init() { helpers["probe"] = probeChild }

// probeChild says whether token args[0]'s holder is alive.
func probeChild(args []string) int {
	t, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		fail("token: %v", err)
	}
	_, f := childMem()
	o, err := NewFileOwner(f)
	if err != nil {
		fail("owner: %v", err)
	}
	defer o.Close()
	alive, err := o.Alive(uint32(t))
	if err != nil {
		fail("Alive: %v", err)
	}
	say(fmt.Sprint(alive))
	return 0
}

// probe asks another process whether o's token is alive.
func probe(t *testing.T, f *os.File, o *FileOwner) string {
	t.Helper()
	c := startChild(t, f, "probe", strconv.FormatUint(uint64(o.Token()), 10))
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	return line[:len(line)-1]
}

// TestCloseFDKeepsClassicLocks (issue 9, item 4): with classic fcntl
// locks, every descriptor of the file that the library closes goes
// through CloseFD, which keeps it open while the process holds token
// locks there (up to maxKept; beyond, it closes and takes the locks again
// at once); the last owner's Close closes them all.
func TestCloseFDKeepsClassicLocks(t *testing.T) {
	withMechanism(t, "fcntl")
	f, _ := sharedMem(t)
	fds0 := countFDs(t)
	a, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewFileOwner(f)
	if err != nil {
		t.Fatal(err)
	}
	for range maxKept + 6 {
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := CloseFD(fd); err != nil {
			t.Fatal(err)
		}
	}
	if n := KeptDescriptors(); n != maxKept {
		t.Errorf("%d descriptors kept, want %d", n, maxKept)
	}
	// b's Close leaves the file's lock descriptor to a.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := probe(t, f, a); got != "true" {
		t.Fatalf("another process sees the holder's token alive = %s after closes of other descriptors", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := KeptDescriptors(); n != 0 {
		t.Errorf("%d descriptors still kept after the last owner closed", n)
	}
	if n := countFDs(t); n != fds0 {
		t.Errorf("%d descriptors open after the last owner closed, %d before", n, fds0)
	}
	// Without owners, CloseFD closes at once.
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if err := CloseFD(fd); err != nil || KeptDescriptors() != 0 {
		t.Fatalf("CloseFD without owners: %v, %d kept", err, KeptDescriptors())
	}
}
