//go:build unix

package sockpair

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func closeOnExec(t *testing.T, fd int) {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("descriptor %d is not close-on-exec", fd)
	}
}

func TestConn(t *testing.T) {
	c, f, err := Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer f.Close()
	closeOnExec(t, int(f.Fd()))
	if _, err := f.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestPipe(t *testing.T) {
	p, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
	defer r.Close()
	defer w.Close()
	closeOnExec(t, p[0])
	closeOnExec(t, p[1])
	if _, err := w.Write([]byte{7}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := r.Read(b); err != nil || b[0] != 7 {
		t.Fatalf("read %v, %v", b, err)
	}
}
