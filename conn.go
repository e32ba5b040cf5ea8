package shm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Connections over shared memory.
//
// [Listen] and [Dial] give a [net.Conn] whose bytes travel through two
// message rings in one anonymous object, one ring per direction. The Unix
// socket that the two sides connect through carries the handshake (and
// the object, as SCM_RIGHTS) and then stays open, idle, as the liveness
// signal: the kernel closes it when either process dies, which the other
// side sees at once. See ARCHITECTURE.md for the protocol.

// ErrPeerGone is returned by [Conn.Write] (wrapped in a [*net.OpError])
// once the other side closed its Conn or died: nobody will read what
// would be written. [Conn.Read] returns [io.EOF] in that case, after the
// bytes the peer wrote before it went.
var ErrPeerGone = errors.New("shm: peer closed the connection or died")

// ErrHandshake is wrapped by the errors of [Dial] (and those passed to
// [ListenConfig.HandshakeError]) when the other side does not speak the
// protocol, speaks another version of it, sends something other than a
// shared-memory object, or asks for sizes that do not fit. The error text
// says which, and when the refusal came from the other side, its reason.
var ErrHandshake = errors.New("shm: connection handshake failed")

// Default sizes and limits of a connection's rings. The defaults suit
// gRPC and net/http: gRPC writes HTTP/2 frames of up to 16 KiB through a
// 32 KiB buffer and lets a stream have up to 4 MiB in flight, so a 1 MiB
// ring per direction keeps a streaming peer busy while the other copies.
// The memory is touched only as the ring wraps through it.
const (
	DefaultRingSize         = 1 << 20
	MinRingSize             = 16 << 10
	DefaultMaxRingSize      = 64 << 20
	DefaultHandshakeTimeout = 10 * time.Second
)

// A ListenConfig holds the options of a [Listener]; the zero value gives
// the defaults. Use [ListenConfig.Listen].
type ListenConfig struct {
	// SendRing and ReceiveRing are the sizes in bytes of the ring that
	// carries this side's writes and the ring that carries the dialer's,
	// used when the dialer does not ask for a size (0: DefaultRingSize).
	// Listen refuses a size below MinRingSize.
	SendRing, ReceiveRing int

	// MaxRing is the largest ring a dialer may ask for (0:
	// DefaultMaxRingSize); a larger request is refused in the handshake.
	// It does not bound SendRing and ReceiveRing, the listener's own
	// choice. Listen refuses a MaxRing below MinRingSize.
	MaxRing int

	// HandshakeTimeout bounds each handshake (0: DefaultHandshakeTimeout).
	// A dialer that says nothing for that long is dropped; others are
	// served meanwhile.
	HandshakeTimeout time.Duration

	// HandshakeError, if set, is called (from a goroutine of the
	// listener) with the error of every handshake that failed, except
	// those that Close cut short. The listener goes on accepting; Accept
	// never returns these errors. Close waits for the calls under way, so
	// it must not be called from HandshakeError.
	HandshakeError func(error)
}

// A Dialer holds the options of [Dialer.Dial]; the zero value gives the
// defaults, which [Dial] uses.
type Dialer struct {
	// SendRing and ReceiveRing ask for the sizes in bytes of the ring
	// that carries this side's writes and of the ring that carries the
	// listener's. 0 leaves the choice to the listener. The listener
	// refuses sizes outside [MinRingSize, its MaxRing].
	SendRing, ReceiveRing int

	// MaxRing is the largest ring this side accepts from the listener
	// (0: DefaultMaxRingSize).
	MaxRing int

	// HandshakeTimeout bounds the handshake after the connection is made
	// (0: DefaultHandshakeTimeout); ctx bounds the whole of Dial.
	HandshakeTimeout time.Duration
}

// Cred is the identity of the process at the other end of a connection,
// as the kernel reported it for the socket. PID is -1 where the system
// does not report it.
type Cred struct {
	PID int
	UID int
	GID int
}

// Addr is the address of either end of a [Conn] or of a [Listener]: the
// socket path, network "shm".
type Addr struct{ Path string }

// Network returns "shm".
func (a *Addr) Network() string { return "shm" }

// String returns the socket path.
func (a *Addr) String() string { return a.Path }

// Conn is a connection over shared memory, made by [Dial] or
// [Listener.Accept]. It implements [net.Conn]: reads and writes are a
// byte stream (a Write of any size completes or fails, a Read returns
// what is there), Read and Write may be called concurrently with each
// other and with the other methods, and the deadlines apply to calls
// already blocked. Close the Conn when done; it frees this side's
// share of the memory and descriptors.
type Conn struct {
	in      receiver     // the ring the peer writes
	out     sender       // the ring this side writes
	cleanup func() error // unmaps, closes the socket
	sock    *net.UnixConn

	local, remote *Addr
	cred          Cred
	credErr       error

	ctx    context.Context // canceled by Close (net.ErrClosed) or peer death (ErrPeerGone)
	cancel context.CancelCauseFunc

	rd, wr     direction
	wrCtx      context.Context // parent of the write deadlines; canceled by CloseWrite too
	wrCancel   context.CancelCauseFunc
	readLeft   []byte // the unread rest of the message last peeked
	writeShut  atomic.Bool
	closed     atomic.Bool
	closeOnce  sync.Once
	closeErr   error
	ops        atomic.Int64 // closedOps | operations in flight on the rings
	cleaned    chan struct{}
	cleanOnce  sync.Once
	cleanupErr error
}

const closedOps = 1 << 62

var _ net.Conn = (*Conn)(nil)

// errWriteShut cancels writes after CloseWrite.
var errWriteShut = errors.New("shm: write after CloseWrite")

func newConn(in receiver, out sender, sock *net.UnixConn, cleanup func() error, local, remote *Addr) *Conn {
	c := &Conn{in: in, out: out, sock: sock, cleanup: cleanup, local: local, remote: remote, cleaned: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.wrCtx, c.wrCancel = context.WithCancelCause(c.ctx)
	c.rd.init(c.ctx)
	c.wr.init(c.wrCtx)
	if sock != nil {
		c.cred, c.credErr = peerCred(sock)
		go c.watch()
	}
	return c
}

// watch reads the socket, which carries nothing after the handshake: it
// returns when the peer closed its end or its process died.
func (c *Conn) watch() {
	var b [64]byte
	for {
		_, err := c.sock.Read(b[:])
		if err != nil {
			break
		}
	}
	c.cancel(ErrPeerGone)
}

// acquire marks a ring operation in flight; false once the Conn is
// closed.
func (c *Conn) acquire() bool {
	if c.ops.Add(1)&closedOps != 0 {
		c.release()
		return false
	}
	return true
}

func (c *Conn) release() {
	if c.ops.Add(-1) == closedOps {
		c.doCleanup()
	}
}

func (c *Conn) doCleanup() {
	c.cleanOnce.Do(func() {
		c.cleanupErr = c.cleanup()
		close(c.cleaned)
	})
}

// Read reads bytes the peer wrote. It returns [io.EOF] once the peer
// called [Conn.CloseWrite] or [Conn.Close], or died, and everything it
// wrote before was read; an error wrapping [os.ErrDeadlineExceeded] when
// the read deadline passes; and one wrapping [net.ErrClosed] after Close.
func (c *Conn) Read(b []byte) (int, error) {
	ctx := c.rd.context()
	if err := c.rd.lock(ctx); err != nil {
		return 0, c.opError("read", ctx, err)
	}
	defer c.rd.unlock()
	if c.closed.Load() {
		return 0, c.opError("read", ctx, net.ErrClosed)
	}
	if c.rd.passed() {
		// Checked first, as a net.Conn does: after the peer has gone,
		// the context's cause stays ErrPeerGone whatever the deadline.
		return 0, c.opError("read", ctx, os.ErrDeadlineExceeded)
	}
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), ErrPeerGone) {
		return 0, c.opError("read", ctx, ctx.Err())
	}
	if len(b) == 0 {
		return 0, nil
	}
	if !c.acquire() {
		return 0, c.opError("read", ctx, net.ErrClosed)
	}
	defer c.release()
	for len(c.readLeft) == 0 {
		msg, err := c.in.peek(ctx)
		if err != nil && ctx.Err() != nil && !c.closed.Load() && errors.Is(context.Cause(ctx), ErrPeerGone) {
			// The peer is gone: what it committed before is there to
			// read; then the stream ends.
			msg, err = c.in.tryPeek()
			if err == nil && msg == nil {
				err = io.EOF
			}
		}
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, c.opError("read", ctx, err)
		}
		if len(msg) == 0 {
			if err := c.in.release(); err != nil {
				return 0, c.opError("read", ctx, err)
			}
			continue
		}
		c.readLeft = msg
	}
	n := copyCached(b, c.readLeft)
	c.readLeft = c.readLeft[n:]
	if len(c.readLeft) == 0 {
		c.readLeft = nil
		if err := c.in.release(); err != nil {
			return n, c.opError("read", ctx, err)
		}
	}
	return n, nil
}

// Write writes b to the peer, in pieces of at most a quarter of the
// ring, waiting while the ring is full; it returns when all of b is
// in the ring or on an error: the write deadline ([os.ErrDeadlineExceeded]),
// Close ([net.ErrClosed]), CloseWrite, or the peer gone ([ErrPeerGone]).
// On an error, the count says how many bytes went into the ring.
func (c *Conn) Write(b []byte) (int, error) {
	ctx := c.wr.context()
	if err := c.wr.lock(ctx); err != nil {
		return 0, c.opError("write", ctx, err)
	}
	defer c.wr.unlock()
	if c.closed.Load() {
		return 0, c.opError("write", ctx, net.ErrClosed)
	}
	if c.wr.passed() {
		return 0, c.opError("write", ctx, os.ErrDeadlineExceeded)
	}
	if ctx.Err() != nil {
		return 0, c.opError("write", ctx, ctx.Err())
	}
	if len(b) == 0 {
		return 0, nil
	}
	if !c.acquire() {
		return 0, c.opError("write", ctx, net.ErrClosed)
	}
	defer c.release()
	piece := c.out.piece()
	n := 0
	for n < len(b) {
		end := min(len(b), n+piece)
		if err := c.out.send(ctx, b[n:end]); err != nil {
			return n, c.opError("write", ctx, err)
		}
		n = end
	}
	return n, nil
}

// opError wraps err in a *net.OpError, replacing a context error by what
// canceled the context.
func (c *Conn) opError(op string, ctx context.Context, err error) error {
	if c.closed.Load() {
		err = net.ErrClosed
	} else if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
	} else if errors.Is(err, ErrPeerDead) {
		err = fmt.Errorf("%w (%w)", ErrPeerGone, err)
	}
	return &net.OpError{Op: op, Net: "shm", Source: c.local, Addr: c.remote, Err: err}
}

// CloseWrite ends this side's stream: once the peer has read what was
// written, its Read returns [io.EOF]. Reading goes on. A Write blocked at
// the time fails.
func (c *Conn) CloseWrite() error {
	if c.closed.Load() {
		return &net.OpError{Op: "close", Net: "shm", Source: c.local, Addr: c.remote, Err: net.ErrClosed}
	}
	if c.writeShut.Swap(true) {
		return nil
	}
	c.wrCancel(errWriteShut)
	c.wr.lockAlways()
	defer c.wr.unlock()
	if !c.acquire() {
		return &net.OpError{Op: "close", Net: "shm", Source: c.local, Addr: c.remote, Err: net.ErrClosed}
	}
	defer c.release()
	if err := c.out.closeSend(); err != nil {
		return &net.OpError{Op: "close", Net: "shm", Source: c.local, Addr: c.remote, Err: err}
	}
	return nil
}

// Close closes the connection: blocked reads and writes return errors
// wrapping [net.ErrClosed], the peer reads what was written and then
// [io.EOF], and this side's mapping and descriptors are released. The
// memory is freed when both sides closed (or died). Close is idempotent
// and safe from several goroutines.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancel(net.ErrClosed)
		c.rd.stop()
		c.wr.stop()
		if c.ops.Add(closedOps) == closedOps {
			c.doCleanup()
		}
		<-c.cleaned
		if c.cleanupErr != nil {
			c.closeErr = &net.OpError{Op: "close", Net: "shm", Source: c.local, Addr: c.remote, Err: c.cleanupErr}
		}
	})
	return c.closeErr
}

// LocalAddr returns this side's address: the socket path for the
// listener's side, an empty path for the dialer's.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the peer's address (see LocalAddr).
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// PeerCred returns the identity of the process at the other end, as the
// kernel reported it when the connection was made (SO_PEERCRED on Linux,
// LOCAL_PEERCRED on FreeBSD and macOS, getpeerucred on illumos and
// Solaris). Check it before trusting the peer. Elsewhere it returns an
// error wrapping [errors.ErrUnsupported].
func (c *Conn) PeerCred() (Cred, error) { return c.cred, c.credErr }

// SetDeadline sets the read and write deadlines, as [net.Conn] says:
// calls blocked or made after t fail with an error wrapping
// [os.ErrDeadlineExceeded]; a zero t means no deadline. It may be changed
// while calls are blocked.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return &net.OpError{Op: "set", Net: "shm", Source: c.local, Addr: c.remote, Err: net.ErrClosed}
	}
	c.rd.set(t)
	c.wr.set(t)
	return nil
}

// SetReadDeadline sets the read deadline (see SetDeadline).
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return &net.OpError{Op: "set", Net: "shm", Source: c.local, Addr: c.remote, Err: net.ErrClosed}
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline sets the write deadline (see SetDeadline).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return &net.OpError{Op: "set", Net: "shm", Source: c.local, Addr: c.remote, Err: net.ErrClosed}
	}
	c.wr.set(t)
	return nil
}

// A direction is one side of a Conn's deadlines and the lock that lets
// one Read (or one Write) run at a time while the others wait in a way
// that a deadline or Close interrupts.
//
// The calls of a direction run under a context that is canceled when the
// deadline passes (cause os.ErrDeadlineExceeded) or when the parent is
// (Close, peer death, CloseWrite). Setting a deadline re-arms a timer that
// cancels the current context; once a context was canceled by its
// deadline, setting a new deadline makes a fresh one.
//
// Every Read or Write reads the context and takes the lock, so neither
// takes a mutex or a channel operation when no other call is in the way:
// the context is an atomic pointer (mu orders its changes), and the lock
// the ring's gate: a compare-and-swap to take, a store and a load to let
// go, a channel only for those that wait.
type direction struct {
	mu      sync.Mutex
	parent  context.Context
	ctx     atomic.Pointer[context.Context] // the calls' context; changed under mu
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	expired atomic.Bool // ctx was canceled by its deadline; changed under mu
	calls   gate        // the ring's (ring_gate.go)
}

func (d *direction) init(parent context.Context) {
	d.parent = parent
	d.fresh()
}

// fresh gives the direction a new context, a child of its parent. The
// caller holds mu, or has the direction to itself.
func (d *direction) fresh() {
	ctx, cancel := context.WithCancelCause(d.parent)
	d.ctx.Store(&ctx)
	d.cancel = cancel
}

// context returns the context of a call starting now.
func (d *direction) context() context.Context { return *d.ctx.Load() }

func (d *direction) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.expired.Load() {
		d.cancel(nil)
		d.fresh()
		d.expired.Store(false)
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.expired.Store(true)
		d.cancel(os.ErrDeadlineExceeded)
		return
	}
	cancel := d.cancel
	var timer *time.Timer
	timer = time.AfterFunc(dur, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.timer != timer {
			return // re-armed or stopped meanwhile
		}
		d.timer = nil
		d.expired.Store(true)
		cancel(os.ErrDeadlineExceeded)
	})
	d.timer = timer
}

// passed reports whether the deadline has passed.
func (d *direction) passed() bool { return d.expired.Load() }

// stop releases the timer (at Close).
func (d *direction) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.cancel(net.ErrClosed)
}

// lock takes the direction's lock, or returns ctx's error.
func (d *direction) lock(ctx context.Context) error { return d.calls.acquire(ctx, nil) }

// lockAlways takes the direction's lock, however long it takes.
func (d *direction) lockAlways() { _ = d.calls.acquire(context.Background(), nil) }

func (d *direction) unlock() { d.calls.release() }

// The rings a Conn runs on, as the Conn sees them: one sender (this
// side's writes) and one receiver (the peer's).
type sender interface {
	// send puts p (at most piece bytes) into the ring as one message,
	// waiting while the ring is full, until ctx is done.
	send(ctx context.Context, p []byte) error
	// closeSend marks the end of the stream.
	closeSend() error
	// piece is the largest message Write puts in the ring.
	piece() int
}

type receiver interface {
	// peek returns the next message, in the ring's memory, waiting while
	// the ring is empty, until ctx is done; io.EOF once the sender closed
	// and everything was read.
	peek(ctx context.Context) ([]byte, error)
	// tryPeek is peek without waiting: nil, nil when the ring is empty.
	tryPeek() ([]byte, error)
	// release frees the message peek returned.
	release() error
}
