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

// runOrLeave runs op in a goroutine and waits for it or for ctx's end;
// left is true when ctx ended first (op goes on alone, its result lost).
func runOrLeave(ctx context.Context, op func() (int, error)) (res ioResult, left bool) {
	done := make(chan ioResult, 1)
	go func() {
		n, err := op()
		done <- ioResult{n, err}
	}()
	select {
	case res = <-done:
		return res, false
	case <-ctx.Done():
		return ioResult{0, ctx.Err()}, true
	}
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
	res, left := runOrLeave(c.ctx, func() (int, error) { return c.r.Read(buf) })
	if left {
		c.buf = nil // the abandoned read still owns it
		return res.n, res.err
	}
	return copy(p, buf[:res.n]), res.err
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
	res, left := runOrLeave(c.ctx, func() (int, error) { return c.w.Write(buf) })
	if left {
		c.buf = nil
	}
	return res.n, res.err
}
