package shm

import "net"

// Send writes objects to a Unix socket. Windows sockets carry no
// handles (there is no SCM_RIGHTS): not supported on windows yet; it
// returns an error wrapping errors.ErrUnsupported.
func Send(*net.UnixConn, ...*Object) error { return errUnsupported("Send") }

// Receive reads objects from a Unix socket: not supported on windows yet
// (see [Send]).
func Receive(*net.UnixConn) ([]*Object, error) { return nil, errUnsupported("Receive") }
