//go:build unix

package shm_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

func init() { registerHelper("conn-bench-peer", helperConnBenchPeer) }

// helperConnBenchPeer dials args[1] over args[0] ("shm" or "unix") and
// serves one benchmark, by args[2]: "echo" sends back every 64 bytes it
// reads; "sink" reads until the end of stream and then writes one byte.
func helperConnBenchPeer(args []string) int {
	var c net.Conn
	var err error
	if args[0] == "shm" {
		c, err = shm.Dial(context.Background(), args[1])
	} else {
		c, err = net.Dial("unix", args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	switch args[2] {
	case "echo":
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return 0 // the end of the benchmark
			}
			if _, err := c.Write(buf); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	case "sink":
		buf := make([]byte, 1<<20)
		for {
			if _, err := c.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		if _, err := c.Write([]byte{1}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// procPeer listens over network ("shm" or "unix"), starts the benchmark
// peer in a child process of this test binary and returns the accepted
// connection; the cleanup closes it and waits for the child.
func procPeer(b *testing.B, network, mode string) net.Conn {
	b.Helper()
	path := benchSocket(b)
	var ln net.Listener
	var err error
	if network == "shm" {
		ln, err = shm.Listen(path)
	} else {
		ln, err = net.Listen("unix", path)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cmd := helperCommand(b, "conn-bench-peer", network, path, mode)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	var r res
	select {
	case r = <-ch:
	case <-time.After(time.Minute):
		r.err = fmt.Errorf("the peer process did not connect in a minute")
	}
	if r.err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatal(r.err)
	}
	b.Cleanup(func() {
		r.c.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("peer process: %v", err)
		}
	})
	return r.c
}

// BenchmarkConnProcPingPong: 64 bytes there and back between two
// processes, one round trip per op; p50-ns and p99-ns per round trip.
func BenchmarkConnProcPingPong(b *testing.B) {
	for _, network := range []string{"shm", "unix"} {
		b.Run(network, func(b *testing.B) {
			pingPong(b, procPeer(b, network, "echo"))
		})
	}
}

// BenchmarkConnProcStream: 1 MiB writes to a reader in another process
// (1 MiB reads), timed until the reader has read everything.
func BenchmarkConnProcStream(b *testing.B) {
	const size = 1 << 20
	for _, network := range []string{"shm", "unix"} {
		b.Run(network, func(b *testing.B) {
			c := procPeer(b, network, "sink")
			msg := make([]byte, size)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				b.Fatal(err)
			}
		})
	}
}
