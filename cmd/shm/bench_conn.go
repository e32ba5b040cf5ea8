//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shmkit/shm"
)

// The conn rows: a shm.Conn (shm.Listen in this process, shm.Dial in a
// child) against a Go net.UnixConn made the same way, 64-byte round
// trips and a stream of 1 MiB writes.

// connNets are the two transports of the conn rows: shm and its peer.
var connNets = []struct{ network, name string }{
	{"shm", "shm.Conn"},
	{"unix", "Go net.UnixConn"},
}

// connListen listens over network ("shm" or "unix") at a socket in a
// fresh temporary directory; cleanup closes it and removes the directory.
func connListen(network string) (ln net.Listener, path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "shmbench")
	if err != nil {
		return nil, "", nil, err
	}
	path = filepath.Join(dir, "s")
	if network == "shm" {
		ln, err = shm.Listen(path)
	} else {
		ln, err = net.Listen("unix", path)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return ln, path, func() { ln.Close(); os.RemoveAll(dir) }, nil
}

// connAccept accepts the child's connection, giving up with the bench
// timeout.
func (b *bencher) connAccept(ln net.Listener) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-time.After(benchTimeout):
		ln.Close()
		return nil, fmt.Errorf("the child did not connect within %v", benchTimeout)
	}
}

// connChild is the child of the conn rows: "conn NETWORK PATH echo SIZE"
// echoes SIZE-byte messages until the end of stream; "conn NETWORK PATH
// send SIZE N" writes N+1 messages of SIZE bytes.
func connChild(ctx context.Context, pos []string) error {
	if len(pos) < 5 {
		return fmt.Errorf("%s conn: want NETWORK PATH echo|send SIZE [N]", benchChildName)
	}
	size, err := strconv.Atoi(pos[4])
	if err != nil || size <= 0 {
		return fmt.Errorf("%s conn: bad size %q", benchChildName, pos[4])
	}
	ctx, cancel := context.WithTimeout(ctx, benchTimeout)
	defer cancel()
	var c net.Conn
	if pos[1] == "shm" {
		c, err = shm.Dial(ctx, pos[2])
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "unix", pos[2])
	}
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, size)
	switch pos[3] {
	case "echo":
		for {
			if _, err := io.ReadFull(c, buf); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
	case "send":
		if len(pos) != 6 {
			return fmt.Errorf("%s conn send: want N", benchChildName)
		}
		n, err := strconv.Atoi(pos[5])
		if err != nil || n < 0 {
			return fmt.Errorf("%s conn: bad count %q", benchChildName, pos[5])
		}
		for range n + 1 {
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
		return nil // what was written stays readable after the close
	}
	return fmt.Errorf("%s conn: unknown mode %q", benchChildName, pos[3])
}

// connPingerOver plays 64-byte round trips with an echoing child over
// network.
func (b *bencher) connPingerOver(network string, size int) (*pinger, error) {
	ln, path, cleanup, err := connListen(network)
	if err != nil {
		return nil, err
	}
	cmd := b.child("conn", network, path, "echo", strconv.Itoa(size))
	var c net.Conn
	msg, buf := make([]byte, size), make([]byte, size)
	warm := 0
	if network == "shm" {
		// A lap of its rings before the clock, as for the ring rows.
		warm = lapRounds(shm.DefaultRingSize, size)
	}
	return &pinger{
		warm: warm,
		start: func() error {
			if err := cmd.Start(); err != nil {
				cleanup()
				return err
			}
			c, err = b.connAccept(ln)
			if err != nil {
				reap(cmd)
				cleanup()
			}
			return err
		},
		round: func() error {
			if _, err := c.Write(msg); err != nil {
				return err
			}
			_, err := io.ReadFull(c, buf)
			return err
		},
		stop: func() error {
			defer cleanup()
			if c == nil {
				return nil
			}
			c.Close() // the child reads io.EOF and ends
			return cmd.Wait()
		},
	}, nil
}

// connStream times n writes of size bytes from a child over network.
func (b *bencher) connStream(network string, size, n int) (time.Duration, error) {
	ln, path, cleanup, err := connListen(network)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	cmd := b.child("conn", network, path, "send", strconv.Itoa(size), strconv.Itoa(n))
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	c, err := b.connAccept(ln)
	if err != nil {
		reap(cmd)
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, size)
	// One message first: the child has started and connected.
	return timedRounds(cmd, network+" conn stream", 1, n, func() error {
		_, err := io.ReadFull(c, buf)
		return err
	})
}

// connRows measures the conn rows: round trips (p50, p99) and a 1 MiB
// stream, shm.Conn against net.UnixConn, each between two processes.
func (b *bencher) connRows() ([]benchRow, error) {
	const size = 64
	conts := make([]pingSet, len(connNets))
	for i, cn := range connNets {
		conts[i] = pingSet{name: "conn round trip, " + cn.name, newPin: func() (*pinger, error) { return b.connPingerOver(cn.network, size) }}
	}
	samples, err := b.pingSamples(conts)
	if err != nil {
		return nil, err
	}
	pct := percentile
	var rows []benchRow
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		r := measured("conn-roundtrip-64B-"+q.name, pct(samples[0], q.q), connNets[1].name, pct(samples[1], q.q))
		r.Note = fmt.Sprintf("shm.Conn %d rounds, peer %d rounds, both 2 processes", len(samples[0]), len(samples[1]))
		rows = append(rows, r)
	}
	const stream = 1 << 20
	per, err := b.interleave(
		contender{n0: 64, run: func(n int) (time.Duration, error) { return b.connStream("shm", stream, n) }},
		contender{n0: 64, run: func(n int) (time.Duration, error) { return b.connStream("unix", stream, n) }},
	)
	if err != nil {
		return nil, fmt.Errorf("conn stream: %w", err)
	}
	r := measured("conn-stream-1MiB", per[0], connNets[1].name, per[1])
	r.Note = fmt.Sprintf("1 MiB writes from a child, 1 MiB reads: shm.Conn %s, peer %s", rate(per[0], stream), rate(per[1], stream))
	return append(rows, r), nil
}
