//go:build !unix

package shm

import (
	"context"
	"net"
)

// Listen listens for shared-memory connections; unsupported on this OS.
func Listen(path string) (*Listener, error) {
	var cfg ListenConfig
	return cfg.Listen(path)
}

// Listen is [Listen] with options; unsupported on this OS.
func (cfg *ListenConfig) Listen(path string) (*Listener, error) {
	return nil, &net.OpError{Op: "listen", Net: "shm", Addr: &Addr{Path: path}, Err: errUnsupported("Listen")}
}

// Dial connects over shared memory; unsupported on this OS.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d Dialer
	return d.Dial(ctx, path)
}

// Dial is [Dial] with options; unsupported on this OS.
func (d *Dialer) Dial(_ context.Context, path string) (*Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: "shm", Addr: &Addr{Path: path}, Err: errUnsupported("Dial")}
}

// A Listener accepts shared-memory connections; none can be made on this
// OS.
type Listener struct{ addr *Addr }

// Accept fails: unsupported on this OS.
func (l *Listener) Accept() (net.Conn, error) { return nil, errUnsupported("Accept") }

// AcceptShm fails: unsupported on this OS.
func (l *Listener) AcceptShm() (*Conn, error) { return nil, errUnsupported("Accept") }

// Close does nothing here.
func (l *Listener) Close() error { return nil }

// Addr returns the socket path.
func (l *Listener) Addr() net.Addr { return l.addr }

func peerCred(*net.UnixConn) (Cred, error) {
	return Cred{PID: -1, UID: -1, GID: -1}, errUnsupported("peer credentials")
}
