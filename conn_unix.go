//go:build unix

package shm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Listen listens for [Dial] at the Unix socket path, which it creates
// with mode 0600 (only this user may connect; loosen it with os.Chmod if
// other users should) and removes on Close. It fails with an error
// matching [fs.ErrExist] if path exists, a socket left by a crashed
// process included: remove it first if it is stale. The socket is first
// bound in a private directory beside path, whose name makes it 13 bytes
// longer: path may be that much shorter than a Unix socket path may be
// (107 bytes on Linux, illumos and Solaris, 103 on the BSDs and darwin).
func Listen(path string) (*Listener, error) {
	var cfg ListenConfig
	return cfg.Listen(path)
}

// A Listener accepts connections over shared memory. It implements
// [net.Listener]. Handshakes run in the background, several at a time;
// Accept returns connections whose handshake succeeded.
type Listener struct {
	cfg  ListenConfig
	ln   *net.UnixListener
	addr *Addr
	ino  os.FileInfo // the socket file we made, to remove only it

	conns     chan *Conn
	failed    chan struct{}   // closed when accepting failed for good
	failErr   error           // why; written before failed is closed
	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	done      <-chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
	slots     chan struct{} // bounds the handshakes in progress
}

var _ net.Listener = (*Listener)(nil)

// maxHandshakes is how many handshakes a listener runs at once.
const maxHandshakes = 64

// Listen is [Listen] with the options of cfg.
func (cfg *ListenConfig) Listen(path string) (*Listener, error) {
	if err := cfg.check(); err != nil {
		return nil, &net.OpError{Op: "listen", Net: "shm", Addr: &Addr{Path: path}, Err: err}
	}
	ln, info, err := listenUnix(path)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "shm", Addr: &Addr{Path: path}, Err: err}
	}
	l := &Listener{
		cfg:    *cfg,
		ln:     ln,
		addr:   &Addr{Path: path},
		ino:    info,
		conns:  make(chan *Conn),
		failed: make(chan struct{}),
		slots:  make(chan struct{}, maxHandshakes),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.done = l.ctx.Done()
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// listenPathSlack is how many bytes longer than the path given to
// Listen the path is at which Listen binds its socket first: a private
// directory beside it, "/.shmXXXXXX/s".
const listenPathSlack = len("/.shm000000/s")

// maxSocketPath is the longest path a Unix socket may be bound at here.
var maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1 // room for the NUL

// listenUnix binds a socket in a private directory beside path, makes it
// 0600 and links it to path: no one can connect before the mode is set,
// and an existing path is never replaced.
func listenUnix(path string) (*net.UnixListener, os.FileInfo, error) {
	if n := len(path) + listenPathSlack; n > maxSocketPath {
		return nil, nil, &os.PathError{Op: "bind", Path: path, Err: fmt.Errorf(
			"the path is %d bytes; Listen binds first at a name %d bytes longer beside it, and a Unix socket path holds at most %d: use a path of at most %d bytes",
			len(path), listenPathSlack, maxSocketPath, maxSocketPath-listenPathSlack)}
	}
	dir, err := privateDir(filepath.Dir(path))
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	ln.SetUnlinkOnClose(false)
	defer os.Remove(tmp)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, nil, err
	}
	if err := os.Link(tmp, path); err != nil {
		ln.Close()
		var le *os.LinkError
		if errors.As(err, &le) {
			err = &os.PathError{Op: "bind", Path: path, Err: le.Err}
		}
		return nil, nil, err
	}
	info, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return ln, info, nil
}

// privateDir makes a directory of mode 0700 named .shm and six random
// hex digits in parent, and returns its path.
func privateDir(parent string) (string, error) {
	var err error
	for range 100 {
		var b [3]byte
		rand.Read(b[:])
		dir := filepath.Join(parent, fmt.Sprintf(".shm%x", b))
		if err = os.Mkdir(dir, 0o700); !errors.Is(err, fs.ErrExist) {
			return dir, err
		}
	}
	return "", err
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		uc, err := l.ln.AcceptUnix()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of descriptors, or a connection reset before we
				// took it: wait a little and go on, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
				case <-l.done:
					return
				}
				continue
			}
			// Every Accept from now on returns this error, as
			// net.UnixListener's would.
			l.failErr = &net.OpError{Op: "accept", Net: "shm", Addr: l.addr, Err: unwrapOp(err)}
			close(l.failed)
			return
		}
		backoff = 0
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			uc.Close()
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer func() { <-l.slots }()
			c, err := l.handshake(uc)
			if err != nil {
				// A handshake that Close cut short is not reported: it
				// was dropped, as documented.
				if h := l.cfg.HandshakeError; h != nil && l.ctx.Err() == nil {
					h(&net.OpError{Op: "accept", Net: "shm", Addr: l.addr, Err: err})
				}
				return
			}
			select {
			case l.conns <- c:
			case <-l.done:
				c.Close()
			}
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Accept waits for the next connection whose handshake succeeded. After
// Close it returns an error wrapping [net.ErrClosed].
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.failed:
		select {
		case <-l.done:
			return nil, &net.OpError{Op: "accept", Net: "shm", Addr: l.addr, Err: net.ErrClosed}
		default:
		}
		return nil, l.failErr
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "shm", Addr: l.addr, Err: net.ErrClosed}
	}
}

// AcceptShm is Accept returning the *Conn.
func (l *Listener) AcceptShm() (*Conn, error) {
	c, err := l.Accept()
	if err != nil {
		return nil, err
	}
	return c.(*Conn), nil
}

// Close stops listening and removes the socket file (when it is still
// the one Listen made). Handshakes in progress are dropped; connections
// already accepted stay open. Close is idempotent.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.cancel()
		if info, err := os.Lstat(l.addr.Path); err == nil && os.SameFile(info, l.ino) {
			if err := os.Remove(l.addr.Path); err != nil {
				l.closeErr = &net.OpError{Op: "close", Net: "shm", Addr: l.addr, Err: err}
			}
		}
		if err := l.ln.Close(); err != nil && l.closeErr == nil {
			l.closeErr = &net.OpError{Op: "close", Net: "shm", Addr: l.addr, Err: err}
		}
		l.wg.Wait()
	})
	return l.closeErr
}

// Addr returns the socket path.
func (l *Listener) Addr() net.Addr { return l.addr }

// handshake runs the listener's side of the protocol on a new socket.
func (l *Listener) handshake(uc *net.UnixConn) (_ *Conn, err error) {
	defer func() {
		if err != nil {
			uc.Close()
		}
	}()
	timeout := orDefault(l.cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	uc.SetDeadline(time.Now().Add(timeout))
	cut := cutOnDone(l.ctx, uc)
	defer cut.stop()

	kind, _, body, err := readMessage(uc, helloBody)
	if err != nil {
		refuse(uc, err)
		return nil, err
	}
	if kind != kindHello {
		err := fmt.Errorf("%w: expected a hello, got message kind %d", ErrHandshake, kind)
		refuse(uc, err)
		return nil, err
	}
	c2s, s2c, err := l.cfg.ringSizes(binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[8:]))
	if err != nil {
		refuse(uc, err)
		return nil, err
	}
	lay := newLayout(connRingBytes(c2s), connRingBytes(s2c))
	o, err := CreateAnon(int64(lay.size))
	if err != nil {
		refuse(uc, fmt.Errorf("the listener could not make the object: %v", err))
		return nil, err
	}
	defer o.Close()
	// The dialer must not be able to shrink the memory under us (a
	// SIGBUS here); seal it where the system can. Where it cannot, the
	// listener trusts its dialers as far as that goes (the socket is
	// 0600: they are this user).
	o.Seal(SealShrink | SealGrow | SealSeal)
	m, err := o.Map()
	if err != nil {
		refuse(uc, fmt.Errorf("the listener could not map the object: %v", err))
		return nil, err
	}
	in, out, closeRings, err := attachRings(m, lay, false)
	if err != nil {
		m.Close()
		refuse(uc, err)
		return nil, err
	}
	if _, err := uc.Write(lay.encode()); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w: writing accept: %v", ErrHandshake, err)
	}
	if err := Send(uc, o); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	kind, text, _, err := readMessage(uc, 0)
	if err == nil && kind != kindAck {
		err = fmt.Errorf("%w: expected an ack, got message kind %d", ErrHandshake, kind)
	}
	if err != nil {
		m.Close()
		if text != "" {
			return nil, fmt.Errorf("%w: the dialer refused: %s", ErrHandshake, text)
		}
		return nil, err
	}
	if cut.stop() {
		// The listener closed as the handshake ended: the connection
		// goes with it, as the ones still in their handshake do.
		m.Close()
		return nil, fmt.Errorf("%w: the listener closed", ErrHandshake)
	}
	uc.SetDeadline(time.Time{})
	c := newConn(in, out, uc, closer(closeRings, m, uc), l.addr, &Addr{})
	return c, nil
}

// closer returns the cleanup of a Conn: close the rings (which ends this
// side's stream), unmap, then close the socket, so that the peer sees the
// socket close only after this side's last message and its end of stream
// are in the ring.
func closer(closeRings func(), m *Mapping, uc *net.UnixConn) func() error {
	return func() error {
		closeRings()
		err := m.Close()
		if cerr := uc.Close(); err == nil {
			err = cerr
		}
		return err
	}
}

// readMessage reads one handshake message: its kind, a refusal's text,
// and for other kinds a body of bodyLen bytes (accept: acceptBody).
func readMessage(uc *net.UnixConn, bodyLen int) (kind uint16, text string, body []byte, err error) {
	hdr := make([]byte, hsHeaderLen)
	if _, err := io.ReadFull(uc, hdr); err != nil {
		return 0, "", nil, fmt.Errorf("%w: reading the peer's message: %v", ErrHandshake, err)
	}
	kind, n, err := parseHeader(hdr)
	if err != nil {
		return 0, "", nil, err
	}
	switch kind {
	case kindRefuse:
		b := make([]byte, n)
		if _, err := io.ReadFull(uc, b); err != nil {
			return 0, "", nil, fmt.Errorf("%w: reading the peer's refusal: %v", ErrHandshake, err)
		}
		text = refusalText(b)
		return kind, text, nil, fmt.Errorf("%w: the peer refused: %s", ErrHandshake, text)
	case kindAccept:
		bodyLen = acceptBody
	case kindAck:
		bodyLen = 0
	case kindHello:
		bodyLen = helloBody
	}
	body = make([]byte, bodyLen)
	if _, err := io.ReadFull(uc, body); err != nil {
		return 0, "", nil, fmt.Errorf("%w: reading the peer's message: %v", ErrHandshake, err)
	}
	return kind, "", body, nil
}

// refuse tells the peer why the handshake failed; best effort.
func refuse(uc *net.UnixConn, reason error) {
	uc.Write(encodeRefuse(strings.TrimPrefix(reason.Error(), ErrHandshake.Error()+": ")))
}

// Dial connects to the [Listener] at the Unix socket path and runs the
// handshake. ctx bounds the whole of it.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d Dialer
	return d.Dial(ctx, path)
}

// Dial is [Dial] with the options of d.
func (d *Dialer) Dial(ctx context.Context, path string) (*Conn, error) {
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "shm", Addr: &Addr{Path: path}, Err: unwrapOp(err)}
	}
	uc := nc.(*net.UnixConn)
	c, err := d.handshake(ctx, uc, path)
	if err != nil {
		uc.Close()
		return nil, &net.OpError{Op: "dial", Net: "shm", Addr: &Addr{Path: path}, Err: err}
	}
	return c, nil
}

// unwrapOp returns the error inside a *net.OpError, so that ours does not
// nest one in another.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

func (d *Dialer) handshake(ctx context.Context, uc *net.UnixConn, path string) (*Conn, error) {
	deadline := time.Now().Add(orDefault(d.HandshakeTimeout, DefaultHandshakeTimeout))
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	uc.SetDeadline(deadline)
	cut := cutOnDone(ctx, uc)
	defer cut.stop()
	fail := func(err error) (*Conn, error) {
		if ctx.Err() != nil {
			// The context's end made the socket's deadline pass: what
			// the socket said ("i/o timeout") is not what happened.
			err = fmt.Errorf("handshake cut short: %w", ctx.Err())
		}
		return nil, err
	}

	if _, err := uc.Write(encodeHello(max(d.SendRing, 0), max(d.ReceiveRing, 0))); err != nil {
		return fail(fmt.Errorf("%w: writing hello: %v", ErrHandshake, err))
	}
	kind, text, body, err := readMessage(uc, 0)
	if text != "" {
		return fail(fmt.Errorf("%w: the listener refused: %s", ErrHandshake, text))
	}
	if err != nil {
		refuse(uc, err)
		return fail(err)
	}
	if kind != kindAccept {
		err := fmt.Errorf("%w: expected accept, got message kind %d", ErrHandshake, kind)
		refuse(uc, err)
		return fail(err)
	}
	lay := decodeLayout(body)
	objs, err := Receive(uc)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrHandshake, err)
		refuse(uc, err)
		return fail(err)
	}
	if len(objs) != 1 {
		for _, o := range objs {
			o.Close()
		}
		err := fmt.Errorf("%w: the listener sent %d objects, not one", ErrHandshake, len(objs))
		refuse(uc, err)
		return fail(err)
	}
	o := objs[0]
	defer o.Close()
	size, err := o.Size()
	if err == nil {
		err = lay.check(size, orDefault(d.MaxRing, DefaultMaxRingSize))
	}
	if err != nil {
		refuse(uc, err)
		return fail(err)
	}
	m, err := o.Map()
	if err != nil {
		refuse(uc, err)
		return fail(err)
	}
	in, out, closeRings, err := attachRings(m, lay, true)
	if err != nil {
		m.Close()
		refuse(uc, err)
		return fail(err)
	}
	if _, err := uc.Write(putHeader(nil, kindAck, 0)); err != nil {
		m.Close()
		return fail(fmt.Errorf("%w: writing ack: %v", ErrHandshake, err))
	}
	// The ack is out: the connection is made, and, as with net.Dialer, the
	// context's end no longer concerns it. An end that came meanwhile may
	// be setting its past deadline on the socket right now: stop waits for
	// that before the deadline is cleared.
	cut.stop()
	uc.SetDeadline(time.Time{})
	return newConn(in, out, uc, closer(closeRings, m, uc), &Addr{}, &Addr{Path: path}), nil
}

// A socketCut cuts a handshake short when a context ends, by setting a
// past deadline on its socket. One goroutine uses it.
type socketCut struct {
	stopFn    func() bool
	fired     chan struct{} // closed once the past deadline is set
	stopped   bool
	cutBefore bool // what stop reported
}

// cutOnDone sets a past deadline on uc when ctx ends, until stop.
func cutOnDone(ctx context.Context, uc *net.UnixConn) *socketCut {
	c := &socketCut{fired: make(chan struct{})}
	c.stopFn = context.AfterFunc(ctx, func() {
		uc.SetDeadline(time.Unix(1, 0))
		close(c.fired)
	})
	return c
}

// stop ends the watch and reports whether the context had ended first;
// then it returns only once the past deadline is set, so that a deadline
// set after stop is never overwritten by it. Later calls report the same.
func (c *socketCut) stop() bool {
	if !c.stopped {
		c.stopped = true
		if !c.stopFn() {
			// The context ended and the callback has run or runs now.
			<-c.fired
			c.cutBefore = true
		}
	}
	return c.cutBefore
}

// attachRings returns the rings of a connection: the dialer receives on
// s2c and sends on c2s, the listener the other way round. Each side has
// one handle per ring, and its Close closes them.
func attachRings(m *Mapping, lay connLayout, dialer bool) (receiver, sender, func(), error) {
	c2s, err := m.Ring(int(lay.c2sOff), int(lay.c2sLen))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	s2c, err := m.Ring(int(lay.s2cOff), int(lay.s2cLen))
	if err != nil {
		c2s.Close()
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	closeBoth := func() { c2s.Close(); s2c.Close() }
	in, out := c2s, s2c
	if dialer {
		in, out = s2c, c2s
	}
	// This side is the only sender of its ring: its writes claim room
	// with a plain store (ring_exclusive.go).
	if err := out.OpenSendExclusive(); err != nil {
		closeBoth()
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return connRing{in}, connRing{out}, closeBoth, nil
}
