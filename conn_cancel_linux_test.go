package shm_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// The handshake's message sizes (conn_handshake.go): a 16-byte header,
// then a hello of 16 bytes or an accept of 40.
const (
	hsHello  = 16 + 16
	hsAccept = 16 + 40
)

// dialAsync runs Dial with a context the caller cancels and a handshake
// timeout long enough that only the cancellation can end a stalled
// handshake.
func dialAsync(t *testing.T, path string) (cancel func(), result <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	ch := make(chan error, 1)
	go func() {
		d := shm.Dialer{HandshakeTimeout: time.Hour}
		c, err := d.Dial(ctx, path)
		if c != nil {
			c.Close()
			err = errors.New("Dial made a connection")
		}
		ch <- err
	}()
	return cancel, ch
}

// checkCanceled checks that a cancelled Dial failed with the context's
// error.
func checkCanceled(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial after its context was cancelled: %v; want an error matching context.Canceled", err)
	}
	if strings.Contains(err.Error(), "i/o timeout") || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a cancelled Dial says %q: no timeout happened", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("Dial's error %v is not a *net.OpError of op dial", err)
	}
	t.Log(err)
}

// settleFDs waits until this process has at most before descriptors.
func settleFDs(t *testing.T, before int) {
	t.Helper()
	settle(t, func() bool { return countFDs() <= before }, func() string {
		return fmt.Sprintf("%d descriptors before, %d now", before, countFDs())
	})
}

// TestDialCancelStalledListener cancels Dial while a hand-driven listener
// holds the handshake: after reading the hello (the dialer waits for the
// accept), and after sending the accept but not the object (the dialer
// waits in Receive). Dial returns ctx's error and leaves no descriptor.
func TestDialCancelStalledListener(t *testing.T) {
	for _, stall := range []string{"hello", "accept"} {
		t.Run(stall, func(t *testing.T) {
			path := socketPath(t)
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			shmBefore := devShmEntries()
			before := countFDs()
			cancel, result := dialAsync(t, path)
			defer cancel()
			c, err := ln.AcceptUnix()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, hsHello)); err != nil {
				t.Fatal(err)
			}
			if stall == "accept" {
				acc := header(1, 2, 0)
				for _, v := range []uint64{2 << 20, 0, 1 << 20, 1 << 20, 1 << 20} {
					acc = binary.LittleEndian.AppendUint64(acc, v)
				}
				if _, err := c.Write(acc); err != nil {
					t.Fatal(err)
				}
				// Wait until the dialer has read the accept: it then
				// waits in Receive for the object.
				settle(t, func() bool { return unsent(t, c) == 0 }, func() string {
					return fmt.Sprintf("the dialer left %d bytes of the accept unread", unsent(t, c))
				})
			}
			// The dialer is (or will be) blocked reading what we hold back.
			cancel()
			checkCanceled(t, <-result)
			// The dialer closed its socket: we read the end of it.
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			if rest, err := io.ReadAll(c); err != nil {
				t.Errorf("reading the cancelled dialer's socket: %q, %v", rest, err)
			}
			c.Close()
			settleFDs(t, before)
			if n := lasting(ours(newEntries(shmBefore, devShmEntries()))); len(n) > 0 {
				t.Errorf("new /dev/shm entries: %v", n)
			}
		})
	}
}

// unsent returns the bytes c wrote that its peer has not read yet
// (SIOCOUTQ).
func unsent(t *testing.T, c *net.UnixConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return n
}

// TestDialCancelMidHandshake cancels Dial while a real Listener waits for
// its ack: a hand-driven relay between them passes the hello on, takes the
// listener's accept and object, and holds them back from the dialer. Dial
// returns ctx's error, the listener drops that handshake (and its
// object), keeps accepting, and neither side leaves a descriptor or a
// /dev/shm entry.
func TestDialCancelMidHandshake(t *testing.T) {
	failed := make(chan error, 4)
	cfg := shm.ListenConfig{HandshakeError: func(err error) { failed <- err }}
	lnPath := socketPath(t)
	ln, err := cfg.Listen(lnPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	shmBefore := devShmEntries()
	before := countFDs()

	relayPath := socketPath(t)
	relay, err := net.ListenUnix("unix", &net.UnixAddr{Name: relayPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	cancel, result := dialAsync(t, relayPath)
	defer cancel()
	dc, err := relay.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	hello := make([]byte, hsHello)
	if _, err := io.ReadFull(dc, hello); err != nil {
		t.Fatal(err)
	}
	lc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: lnPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Write(hello); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(lc, make([]byte, hsAccept)); err != nil {
		t.Fatal(err)
	}
	objs, err := shm.Receive(lc)
	if err != nil || len(objs) != 1 {
		t.Fatalf("the listener's object: %d, %v", len(objs), err)
	}
	objs[0].Close()
	// The listener has sent everything and waits for the ack; the
	// dialer waits for the accept, which the relay holds.
	cancel()
	checkCanceled(t, <-result)
	dc.Close()
	lc.Close()
	relay.Close()
	if err := <-failed; !errors.Is(err, shm.ErrHandshake) {
		t.Errorf("the listener's handshake error: %v, want ErrHandshake", err)
	} else {
		t.Logf("listener: %v", err)
	}

	// The listener still accepts.
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = io.Copy(c, c)
			c.Close()
		}
		served <- err
	}()
	c, err := shm.Dial(testCtx(t), lnPath)
	if err != nil {
		t.Fatalf("Dial after a cancelled one: %v", err)
	}
	c.Write([]byte("ping"))
	c.CloseWrite()
	if b, err := io.ReadAll(c); err != nil || string(b) != "ping" {
		t.Fatalf("echo: %q, %v", b, err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		t.Errorf("another handshake failed: %v", err)
	default:
	}
	settleFDs(t, before)
	if n := lasting(ours(newEntries(shmBefore, devShmEntries()))); len(n) > 0 {
		t.Errorf("new /dev/shm entries: %v", n)
	}
}
