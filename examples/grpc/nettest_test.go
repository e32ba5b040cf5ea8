package grpcexample

import (
	"context"
	"net"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/net/nettest"
)

// TestNettest runs x/net/nettest's net.Conn conformance suite over a
// connection made with shm.Listen and shm.Dial.
func TestNettest(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ln, err := shm.Listen(socketPath(t))
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				c = nil
			}
			accepted <- c
		}()
		d, err := shm.Dial(context.Background(), ln.Addr().String())
		if err != nil {
			return nil, nil, nil, err
		}
		l := <-accepted
		return d, l, func() { d.Close(); l.Close() }, nil
	})
}
