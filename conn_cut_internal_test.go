//go:build unix

package shm

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// unixPair returns the two ends of a connected Unix stream socket pair.
func unixPair(t *testing.T) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// TestSocketCutStopWaits: a context that ends as a handshake finishes
// races the handshake's clearing of the socket's deadline. Once stop has
// returned, the past deadline the context's end sets is in place, or will
// never be: a deadline cleared after stop stays cleared, and a read waits
// for its data instead of timing out. Each round ends the context and
// stops at once, so that the two run at the same time.
func TestSocketCutStopWaits(t *testing.T) {
	a, b := unixPair(t)
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	var cut int
	buf := make([]byte, 1)
	for i := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		c := cutOnDone(ctx, a)
		if i%2 == 0 {
			go cancel()
		} else {
			cancel()
		}
		first := c.stop()
		if first {
			cut++
		}
		if c.stop() != first {
			t.Fatal("a second stop reported otherwise than the first")
		}
		a.SetDeadline(time.Time{})
		if _, err := b.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Read(buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("round %d: read after the deadline was cleared: %v (the context's cut landed after stop)", i, err)
		}
		cancel()
	}
	t.Logf("%d of %d rounds found the context ended first", cut, rounds)
}
