package main

import (
	"context"
	"io"
)

// The reads of stdin and writes of stdout in shm send and recv block for
// as long as the other end of a pipe is quiet or full, and a blocked read
// or write does not look at the context: SIGINT and SIGTERM, which main
// turns into the context's end, would not end the command. So they run in
// a goroutine of their own, and the command waits for either it or the
// context. A read or write left blocked when the context ends goes on in
// its goroutine, into a buffer of its own, until the process exits; every
// later call returns the context's error at once.

// ioResult is the outcome of one Read or Write.
type ioResult struct {
	n   int
	err error
}

// ctxReader reads from r, returning the context's error once it ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	buf []byte
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	done := make(chan ioResult, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- ioResult{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		c.buf = nil // the abandoned read still owns it
		return 0, c.ctx.Err()
	}
}

// ctxWriter writes to w, returning the context's error once it ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	buf []byte
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	// A copy: the caller may reuse p once an abandoned Write returned.
	buf := append(c.buf[:0], p...)
	c.buf = buf
	done := make(chan ioResult, 1)
	go func() {
		n, err := c.w.Write(buf)
		done <- ioResult{n, err}
	}()
	select {
	case res := <-done:
		return res.n, res.err
	case <-c.ctx.Done():
		c.buf = nil
		return 0, c.ctx.Err()
	}
}
