package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/shmkit/shm"
)

// The ring step: a child streams demoRingCount messages through a ring
// far smaller than the stream, so that it wraps many times and each side
// waits for the other.
const (
	demoRingCount = 20000
	demoRingMsg   = 40 // the largest message the ring must take
	demoRingSlots = 64
)

// demoRingMessage is the child's message number i: "child:TOKEN:i".
func demoRingMessage(buf []byte, token string, i int) []byte {
	buf = append(buf[:0], "child:"...)
	buf = append(buf, token...)
	buf = append(buf, ':')
	return strconv.AppendInt(buf, int64(i), 10)
}

func (d *demo) stepRing() (string, error) {
	n := shm.RingSize(demoRingMsg, demoRingSlots)
	o, err := shm.CreateAnon(int64(n))
	if err != nil {
		return "", err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return "", err
	}
	defer m.Close()
	r, err := m.Ring(0, n)
	if err != nil {
		return "", err
	}
	defer r.Close()
	st, err := r.Stats()
	if err != nil {
		return "", err
	}
	d.say("made a ring of %s of messages (shm.RingSize(%d, %d)) in an anonymous object", formatSize(int64(st.Capacity)), demoRingMsg, demoRingSlots)
	ctx, cancel := context.WithTimeout(d.ctx, childTimeout)
	defer cancel()
	cmd := d.child(ctx, "ring", d.token)
	if err := shm.Pass(cmd, demoEnv, o); err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// Receive until the child closes its side; then check count and order.
	got, bytes, err := d.receiveStream(ctx, r)
	werr := cmd.Wait()
	if err != nil {
		return "", err
	}
	if werr != nil {
		return "", fmt.Errorf("child ring: %w", werr)
	}
	if got != demoRingCount {
		return "", fmt.Errorf("received %d messages, then io.EOF; want %d", got, demoRingCount)
	}
	d.say("received %d messages (%s) in order, then io.EOF: none lost, none repeated; the ring wrapped %d times",
		got, formatSize(bytes), bytes/int64(st.Capacity))
	return "", nil
}

// receiveStream receives the child's messages until io.EOF, checking each
// against the next expected one.
func (d *demo) receiveStream(ctx context.Context, r *shm.Ring) (count int, bytes int64, err error) {
	var buf, want []byte
	for {
		buf, err = r.Receive(ctx, buf)
		if errors.Is(err, io.EOF) {
			return count, bytes, nil
		}
		if err != nil {
			return count, bytes, fmt.Errorf("after %d messages: %w", count, err)
		}
		want = demoRingMessage(want, d.token, count)
		if string(buf) != string(want) {
			return count, bytes, fmt.Errorf("message %d is %q, want %q", count, buf, want)
		}
		count++
		bytes += int64(len(buf))
	}
}

// demoRingChild sends the stream into the ring of the inherited object and
// closes its side.
func demoRingChild(token string, say func(string, ...any)) error {
	o, err := shm.Inherited(demoEnv)
	if err != nil {
		return err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return err
	}
	defer m.Close()
	r, err := m.Ring(0, m.Len())
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	var msg []byte
	for i := range demoRingCount {
		msg = demoRingMessage(msg, token, i)
		if err := r.Send(ctx, msg); err != nil {
			return fmt.Errorf("sending message %d: %w", i, err)
		}
	}
	// Said before CloseSend, so that it comes before the parent's line.
	say("sent messages 0 to %d (\"child:%s:i\") with Ring.Send, then CloseSend", demoRingCount-1, token)
	return r.CloseSend()
}
