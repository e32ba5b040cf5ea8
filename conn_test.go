//go:build unix

package shm_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// socketPath returns a short socket path in a fresh directory (sun_path
// holds about 100 bytes).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shmconn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// connPair returns both ends of a connection made through a listener in
// this process.
func connPair(t *testing.T, cfg *shm.ListenConfig, d *shm.Dialer) (dialer, listener *shm.Conn) {
	t.Helper()
	if cfg == nil {
		cfg = &shm.ListenConfig{}
	}
	if d == nil {
		d = &shm.Dialer{}
	}
	ln, err := cfg.Listen(socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   *shm.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptShm()
		ch <- res{c, err}
	}()
	dc, err := d.Dial(testCtx(t), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { dc.Close(); r.c.Close() })
	return dc, r.c
}

func TestConnStream(t *testing.T) {
	a, b := connPair(t, &shm.ListenConfig{SendRing: 64 << 10, ReceiveRing: 64 << 10}, nil)
	// 1 MiB through a 64 KiB ring, both ways at once.
	want := make([]byte, 1<<20)
	rand.Read(want)
	var wg sync.WaitGroup
	for _, pair := range [][2]*shm.Conn{{a, b}, {b, a}} {
		w, r := pair[0], pair[1]
		wg.Add(2)
		go func() {
			defer wg.Done()
			if n, err := w.Write(want); n != len(want) || err != nil {
				t.Errorf("Write: %d, %v", n, err)
			}
			if err := w.CloseWrite(); err != nil {
				t.Errorf("CloseWrite: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			// Small reads: the rest of a message waits for the next Read.
			var got bytes.Buffer
			buf := make([]byte, 1000)
			for {
				n, err := r.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("read %d bytes, not what was written", got.Len())
			}
			if n, err := r.Read(buf); n != 0 || err != io.EOF {
				t.Errorf("Read after EOF: %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
	// CloseWrite leaves Write failing, and nothing else.
	if _, err := a.Write([]byte("x")); err == nil {
		t.Error("Write after CloseWrite succeeded")
	}
}

func TestConnPeerCredAndAddr(t *testing.T) {
	a, b := connPair(t, nil, nil)
	for _, c := range []*shm.Conn{a, b} {
		cred, err := c.PeerCred()
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("peer credentials: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if cred.UID != os.Geteuid() || cred.GID != os.Getegid() {
			t.Errorf("PeerCred = %+v, want uid %d gid %d", cred, os.Geteuid(), os.Getegid())
		}
		if cred.PID != -1 && cred.PID != os.Getpid() {
			t.Errorf("PeerCred pid %d, want %d", cred.PID, os.Getpid())
		}
	}
	if a.RemoteAddr().String() != b.LocalAddr().String() || a.RemoteAddr().Network() != "shm" {
		t.Errorf("addresses: dialer remote %v, listener local %v", a.RemoteAddr(), b.LocalAddr())
	}
}

func TestListenerSocket(t *testing.T) {
	path := socketPath(t)
	ln, err := shm.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Type() != fs.ModeSocket || info.Mode().Perm() != 0o600 {
		t.Errorf("socket file mode %v, want a socket with 0600", info.Mode())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("listen left %d entries beside the socket", len(ents)-1)
	}
	if _, err := shm.Listen(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Listen on %s: %v, want fs.ErrExist", path, err)
	}
	accepted := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		accepted <- err
	}()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
	if _, err := shm.Dial(testCtx(t), path); err == nil {
		t.Error("Dial of a closed listener succeeded")
	}
}

func TestConnDeadlines(t *testing.T) {
	a, b := connPair(t, &shm.ListenConfig{SendRing: 16 << 10, ReceiveRing: 16 << 10}, nil)
	// A past deadline fails at once.
	a.SetReadDeadline(time.Unix(1, 0))
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past deadline: %v", err)
	}
	// A Read blocked with no deadline gets one while it waits.
	a.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 1))
		done <- err
	}()
	a.SetReadDeadline(time.Now().Add(time.Hour))
	a.SetReadDeadline(time.Unix(1, 0))
	err := <-done
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("blocked Read: %v, want a timeout", err)
	}
	// Cleared again, reads work.
	a.SetReadDeadline(time.Time{})
	b.Write([]byte("hi"))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("Read after deadline cleared: %q, %v", buf, err)
	}
	// A Write blocked on a full ring gets a deadline while it waits.
	go func() {
		_, err := b.Write(make([]byte, 1<<20))
		done <- err
	}()
	b.SetWriteDeadline(time.Unix(1, 0))
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocked Write: %v, want os.ErrDeadlineExceeded", err)
	}
	// Close interrupts a blocked Read.
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, err := a.Read(buf); err != nil {
				done <- err
				return
			}
		}
	}()
	a.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read during Close: %v, want net.ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The peer sees the end.
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(b); err != nil {
		t.Errorf("peer ReadAll after Close: %v", err)
	}
	b.SetWriteDeadline(time.Time{})
	if _, err := b.Write([]byte("x")); !errors.Is(err, shm.ErrPeerGone) {
		t.Errorf("Write to a closed peer: %v, want shm.ErrPeerGone", err)
	}
}

func TestConnRingSizeRefused(t *testing.T) {
	var hsErrs = make(chan error, 4)
	cfg := &shm.ListenConfig{MaxRing: 1 << 20, HandshakeError: func(err error) { hsErrs <- err }}
	ln, err := cfg.Listen(socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := &shm.Dialer{SendRing: 4 << 20}
	_, err = d.Dial(testCtx(t), ln.Addr().String())
	if !errors.Is(err, shm.ErrHandshake) {
		t.Fatalf("Dial asking for a 4 MiB ring from a 1 MiB listener: %v", err)
	}
	t.Logf("dialer: %v", err)
	if err := <-hsErrs; !errors.Is(err, shm.ErrHandshake) {
		t.Errorf("listener: %v", err)
	} else {
		t.Logf("listener: %v", err)
	}
	// The listener goes on.
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := shm.Dial(testCtx(t), ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial after a refusal: %v", err)
	}
	c.Close()
}

// TestListenConfigChecked: Listen refuses sizes below MinRingSize, with
// an error naming the field, and leaves nothing at the path; a MaxRing
// below the listener's own sizes serves dialers that leave the sizes to
// it.
func TestListenConfigChecked(t *testing.T) {
	for _, cfg := range []*shm.ListenConfig{{SendRing: 1000}, {ReceiveRing: MinRingSizeLess}, {MaxRing: 4096}} {
		path := socketPath(t)
		ln, err := cfg.Listen(path)
		if err == nil {
			ln.Close()
			t.Errorf("Listen with %+v: no error", *cfg)
			continue
		}
		if !strings.Contains(err.Error(), "below MinRingSize") {
			t.Errorf("Listen with %+v: %v; want it to name the field and MinRingSize", *cfg, err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Listen with %+v failed and left %s: %v", *cfg, path, err)
		}
	}
	cfg := &shm.ListenConfig{MaxRing: 256 << 10}
	ln, err := cfg.Listen(socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := shm.Dial(testCtx(t), ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial leaving the sizes to a listener whose MaxRing is below its own 1 MiB rings: %v", err)
	}
	c.Close()
}

// MinRingSizeLess is a ring size just below shm.MinRingSize.
const MinRingSizeLess = shm.MinRingSize - 8

func TestConnNoLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors through /proc")
	}
	path := socketPath(t)
	ln, err := shm.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	round := func() {
		served := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				_, err = io.Copy(c, c)
				c.Close()
			}
			served <- err
		}()
		c, err := shm.Dial(testCtx(t), path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			c.Close()
			t.Fatalf("write: %v (server: %v)", err, <-served)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatalf("closewrite: %v", err)
		}
		if b, err := io.ReadAll(c); err != nil || string(b) != "ping" {
			c.Close()
			t.Fatalf("echo: %q, %v (server: %v)", b, err, <-served)
		}
		c.Close()
		if err := <-served; err != nil {
			t.Fatalf("server: %v", err)
		}
	}
	round()
	before := countFDs()
	for range 20 {
		round()
	}
	if after := countFDs(); after > before {
		t.Errorf("%d descriptors before 20 connections, %d after", before, after)
	}
}

// TestListenPathLength: Listen takes a path up to 13 bytes shorter than
// a Unix socket path may be (its private directory beside the path adds
// them), and refuses a longer one with an error that says so, leaving
// nothing behind.
func TestListenPathLength(t *testing.T) {
	dir := t.TempDir()
	max := shm.MaxSocketPath() - 13
	at := func(n int) string {
		if n <= len(dir)+2 {
			t.Skipf("the temporary directory %s is too long to build a %d-byte path in", dir, n)
		}
		return filepath.Join(dir, strings.Repeat("p", n-len(dir)-1))
	}
	ok := at(max)
	ln, err := shm.Listen(ok)
	if err != nil {
		t.Fatalf("Listen at a %d-byte path: %v", len(ok), err)
	}
	ln.Close()
	long := at(max + 1)
	ln, err = shm.Listen(long)
	if err == nil {
		ln.Close()
		t.Fatalf("Listen at a %d-byte path: no error", len(long))
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("use a path of at most %d bytes", max)) {
		t.Errorf("Listen at a %d-byte path: %v; want it to give the limit", len(long), err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("left in %s: %v %v", dir, ents, err)
	}
}

// TestConnPastDeadlineAfterPeerGone: once the peer has gone, a past
// deadline still fails a Read or a Write with a timeout, as on any
// net.Conn, before anything else; cleared, the Read drains what the peer
// wrote, then ends the stream.
func TestConnPastDeadlineAfterPeerGone(t *testing.T) {
	a, b := connPair(t, nil, nil)
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// b learns of it through its socket: wait until a Write says so.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		_, err := b.Write([]byte("x"))
		if errors.Is(err, shm.ErrPeerGone) {
			break
		}
		if err != nil {
			t.Fatalf("Write while the peer goes: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("b never saw its peer gone")
		}
	}
	timeout := func(what string, err error) {
		t.Helper()
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s with a past deadline after the peer went: %v; want a timeout", what, err)
		}
	}
	b.SetDeadline(time.Unix(1, 0))
	_, err := b.Read(make([]byte, 8))
	timeout("Read", err)
	_, err = b.Write([]byte("x"))
	timeout("Write", err)
	b.SetDeadline(time.Time{})
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "hello" {
		t.Errorf("ReadAll once the deadline is cleared: %q, %v; want what the peer wrote", got, err)
	}
}
