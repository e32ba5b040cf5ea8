package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"time"

	"github.com/shmkit/shm"
)

// defaultRingSize is the size of the object shm send and shm recv create:
// a 1 MiB data area behind the ring's 4 KiB header.
var defaultRingSize = int64(shm.RingSize(1<<18, 2)) // two 256 KiB messages: a 1 MiB area

// minRingSize is the smallest object that holds a ring.
var minRingSize = int64(shm.RingSize(0, 1))

// ringFlags are the flags shm send and shm recv share.
type ringFlags struct {
	raw       *bool
	count     *int
	timeout   *time.Duration
	size      *sizeFlag
	foreign   *bool
	exclusive *bool // send only
}

func addRingFlags(c *command, e *env, args []string, rawHelp, countHelp, timeoutHelp string) (*ringFlags, string, error) {
	flags := c.flags()
	f := &ringFlags{size: &sizeFlag{n: defaultRingSize}}
	f.raw = flags.Bool("raw", false, rawHelp)
	f.count = flags.Int("count", 0, countHelp)
	f.timeout = durationFlag(flags, "timeout", 0, timeoutHelp)
	flags.Var(f.size, "size", "size of the object if this command creates it: "+sizeHelp)
	f.foreign = flags.Bool("foreign", false, foreignHelp)
	f.exclusive = new(bool)
	if c.name == "send" {
		f.exclusive = flags.Bool("exclusive", false, "send as the ring's only sender: refused while another sender lives, and other senders are refused while this one does")
	}
	pos, err := c.parse(e, flags, args, true)
	if err != nil {
		return nil, "", err
	}
	if err := c.needArgs(pos, 1, 1, "NAME"); err != nil {
		return nil, "", err
	}
	switch {
	case *f.count < 0:
		return nil, "", c.usageErr("--count %d: want 0 (no limit) or more", *f.count)
	case *f.timeout < 0:
		return nil, "", c.usageErr("--timeout %v: want 0 (wait for ever) or more", *f.timeout)
	case f.size.n < minRingSize:
		return nil, "", c.usageErr("--size %s: a ring needs at least %d bytes", exactSize(f.size.n), minRingSize)
	}
	return f, pos[0], nil
}

const ringNote = `
NAME is opened, or created with --size bytes (default 1 MiB + 4 KiB: a
1 MiB ring) and mode 0600 if it does not exist, saying so on stderr with
the ring's capacity. The ring fills the object (shm.Mapping.Ring at
offset 0 over the whole object), so a Go program reaches the same ring
with:

  o, _ := shm.Open(NAME)
  m, _ := o.Map()
  r, _ := m.Ring(0, m.Len())

An object that holds anything but a ring, or zeros, is refused. Nothing
removes the object: 'shm rm NAME' does.`

var cmdSend = &command{
	name:    "send",
	args:    "[--raw] [--count N] [--timeout DUR] [--size SIZE] [--foreign] [--exclusive] NAME",
	summary: "send stdin as messages into a ring in an object",
	help: `
Send stdin into the ring in the named object NAME, one message per line
(without its newline), or with --raw one message per read from stdin (up
to the ring's largest message). At the end of stdin, or after --count
messages, the command closes its sending side and exits: once every
sender has done so, the receiver gets the end of the stream. Messages
queue in the ring whether or not a receiver is attached; while the ring is
full, send waits for a receiver to take from it (a new one too, when the
last has gone); --timeout gives up with exit status 1 when no room appears
for DUR. A line longer than the ring's
largest message is an error. Stdin is read in blocks: with --count, what
the command read past the last message it sent is not sent, and is gone
from stdin for whatever reads it next. SIGINT or SIGTERM ends the command
even while it waits for stdin (exit status 1, saying how many it sent).
With --exclusive the command registers at
once as the ring's only sender (shm.Ring.OpenSendExclusive): it is refused
while another sender lives, and other senders are refused until it ends.
` + ringNote,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		f, name, err := addRingFlags(c, e, args,
			"one message per read from stdin instead of per line",
			"stop after `N` messages (0: at the end of stdin)",
			"give up when the ring stays full this long (0: wait for ever)")
		if err != nil {
			return err
		}
		rg, err := openRing(name, "send", f, e)
		if err != nil {
			return err
		}
		defer rg.close()
		// The object outlives its processes: a receiver that has gone
		// may be followed by another, as with a named pipe.
		rg.r.WaitForReceiver(true)
		if *f.exclusive {
			if err := rg.r.OpenSendExclusive(); err != nil {
				return rg.waitErr(ctx, err, f, "", 0)
			}
		}
		return rg.send(ctx, e.stdin, f)
	},
}

var cmdRecv = &command{
	name:    "recv",
	args:    "[--raw] [--count N] [--timeout DUR] [--size SIZE] [--foreign] NAME",
	summary: "print the messages of a ring in an object",
	help: `
Receive messages from the ring in the named object NAME and write each to
stdout followed by a newline, or with --raw as they are. The command exits
with status 0 after --count messages, or when every sender has closed its
side and the ring is empty; --timeout gives up with exit status 1 when no
message arrives for DUR. Only one receiver at a time may use a ring: a
second is refused while the first lives. Messages the command has taken
are gone from the ring. SIGINT or SIGTERM ends the command even while
stdout is full (exit status 1, saying how many it received); so does a
failed write of stdout, after which it takes no more messages.
` + ringNote,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		f, name, err := addRingFlags(c, e, args,
			"write the messages as they are, without a newline after each",
			"stop after `N` messages (0: at the end of the stream)",
			"give up when no message arrives for this long (0: wait for ever)")
		if err != nil {
			return err
		}
		rg, err := openRing(name, "recv", f, e)
		if err != nil {
			return err
		}
		defer rg.close()
		return rg.recv(ctx, e.stdout, f)
	},
}

// cliRing is an open ring of shm send or shm recv.
type cliRing struct {
	op, name string
	o        *shm.Object
	m        *shm.Mapping
	r        *shm.Ring
}

func (g *cliRing) close() {
	g.r.Close()
	g.m.Close()
	g.o.Close()
}

// openRing opens NAME, creating it if it does not exist, and attaches to
// the ring that fills it.
func openRing(name, op string, f *ringFlags, e *env) (_ *cliRing, err error) {
	o, err := shm.Open(name, openOpts(*f.foreign)...)
	created := false
	if errors.Is(err, fs.ErrNotExist) {
		o, err = shm.Create(name, f.size.n, 0o600)
		created = err == nil
		if errors.Is(err, fs.ErrExist) { // another process made it first
			o, err = shm.Open(name, openOpts(*f.foreign)...)
		}
	}
	if err != nil {
		return nil, objErr(op, name, err)
	}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	size, err := o.Size()
	if err != nil {
		return nil, objErr(op, name, err)
	}
	if size < minRingSize {
		return nil, fmt.Errorf("%s %s: the object has %d bytes (%s), too small for a ring (at least %d bytes)",
			op, name, size, formatSize(size), minRingSize)
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("%s %s: the object has %d bytes, more than this system can map", op, name, size)
	}
	m, err := o.Map()
	if err != nil {
		return nil, objErr(op, name, err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if off := strayByte(m.Bytes()); off >= 0 {
		return nil, fmt.Errorf("%s %s: the object holds something that is not a ring (a byte at offset %d is not zero, and no ring header is there); use an object of zeros or one that holds a ring",
			op, name, off)
	}
	r, err := m.Ring(0, int(size))
	if err != nil {
		if isRing(m.Bytes()) && errors.Is(err, shm.ErrRingMismatch) {
			return nil, fmt.Errorf("%s %s: the object holds a ring this shm cannot use (%w)", op, name, err)
		}
		if errors.Is(err, shm.ErrRingCorrupt) || errors.Is(err, shm.ErrRingMismatch) {
			return nil, fmt.Errorf("%s %s: the object holds something that is not a ring of its size (%w)", op, name, err)
		}
		return nil, objErr(op, name, err)
	}
	if created {
		st, err := r.Stats()
		if err != nil {
			r.Close()
			return nil, objErr(op, name, err)
		}
		fmt.Fprintf(e.stderr, "shm: created %s: %d bytes (%s), mode 0600, a ring of %s, messages up to %d bytes\n",
			name, size, formatSize(size), formatSize(int64(st.Capacity)), st.MaxMessage)
	}
	return &cliRing{op: op, name: name, o: o, m: m, r: r}, nil
}

// strayByte returns the offset of a non-zero byte of b when b's first
// word is zero (no ring was ever attached there), or -1. A ring attached
// since the first look is fine.
func strayByte(b []byte) int {
	const word = 8
	if len(b) < word || !allZero(b[:word]) {
		return -1
	}
	for i, v := range b {
		if v != 0 {
			if !allZero(b[:word]) {
				return -1 // a ring was attached meanwhile
			}
			return i
		}
	}
	return -1
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// waitCtx returns ctx bounded by --timeout.
func waitCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// waitErr turns the error of a wait into the command's error.
func (g *cliRing) waitErr(ctx context.Context, err error, f *ringFlags, what string, done int) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("%s %s: %s within %v (%d messages %s)", g.op, g.name, what, *f.timeout, done, g.verb())
	case ctx.Err() != nil:
		return fmt.Errorf("%s %s: interrupted (%d messages %s)", g.op, g.name, done, g.verb())
	case errors.Is(err, shm.ErrRingBusy):
		who := "every sender slot is taken by a live process"
		switch st, serr := g.r.Stats(); {
		case g.op == "recv":
			who = "another live process is receiving from this ring"
		case serr == nil && st.Exclusive:
			who = "another live process sends to this ring exclusively"
		case *f.exclusive && serr == nil && st.Senders > 0:
			who = "another live process sends to this ring, and --exclusive needs it alone"
		}
		return fmt.Errorf("%s %s: %s (%w)", g.op, g.name, who, err)
	case errors.Is(err, shm.ErrPeerDead):
		return fmt.Errorf("%s %s: the receiver died or stopped while the ring was full (%d messages sent) (%w)", g.op, g.name, done, err)
	}
	return fmt.Errorf("%s %s: %w", g.op, g.name, err)
}

func (g *cliRing) verb() string {
	if g.op == "recv" {
		return "received"
	}
	return "sent"
}

func (g *cliRing) send(ctx context.Context, stdin io.Reader, f *ringFlags) error {
	in := &ctxReader{ctx: ctx, r: stdin}
	max := g.r.MaxMessage()
	var next func() ([]byte, error) // the next message from stdin
	if *f.raw {
		buf := make([]byte, min(max, 1<<20))
		next = func() ([]byte, error) {
			for {
				n, err := in.Read(buf)
				if n > 0 {
					return buf[:n], nil
				}
				if err != nil {
					return nil, err
				}
			}
		}
	} else {
		br := bufio.NewReaderSize(in, max+1)
		line := 0
		next = func() ([]byte, error) {
			b, err := br.ReadSlice('\n')
			line++
			switch {
			case errors.Is(err, bufio.ErrBufferFull):
				return nil, fmt.Errorf("line %d is longer than the ring's largest message, %d bytes; nothing of it was sent", line, max)
			case err == io.EOF && len(b) > 0:
				return b, nil // a last line without a newline
			case err != nil:
				return nil, err
			}
			return b[:len(b)-1], nil
		}
	}
	sent := 0
	for *f.count == 0 || sent < *f.count {
		msg, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return g.waitErr(ctx, err, f, "", sent)
			}
			return fmt.Errorf("send %s: reading stdin: %w (%d messages sent)", g.name, err, sent)
		}
		wctx, cancel := waitCtx(ctx, *f.timeout)
		err = g.r.Send(wctx, msg)
		cancel()
		if err != nil {
			return g.waitErr(ctx, err, f, "no room in the ring", sent)
		}
		sent++
	}
	if err := g.r.CloseSend(); err != nil {
		return fmt.Errorf("send %s: %w", g.name, err)
	}
	return nil
}

func (g *cliRing) recv(ctx context.Context, stdout io.Writer, f *ringFlags) error {
	w := bufio.NewWriterSize(&ctxWriter{ctx: ctx, w: stdout}, 64<<10)
	var buf []byte
	got := 0
	// A failed write of stdout ends the command at once: the messages
	// received since the last successful write are lost with it, and no
	// more are taken from the ring.
	stdoutErr := func(err error) error {
		if ctx.Err() != nil {
			return g.waitErr(ctx, err, f, "", got)
		}
		return fmt.Errorf("recv %s: writing stdout: %w (%d messages received)", g.name, err, got)
	}
	for *f.count == 0 || got < *f.count {
		msg, ok, err := g.r.TryReceive(buf[:0])
		if err == nil && !ok {
			// Nothing waiting: show what came so far, then sleep.
			if err := w.Flush(); err != nil {
				return stdoutErr(err)
			}
			wctx, cancel := waitCtx(ctx, *f.timeout)
			msg, err = g.r.Receive(wctx, buf[:0])
			cancel()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Flush()
			return g.waitErr(ctx, err, f, "no message", got)
		}
		buf = msg
		got++
		_, err = w.Write(msg)
		if err == nil && !*f.raw {
			err = w.WriteByte('\n')
		}
		if err != nil {
			return stdoutErr(err)
		}
	}
	if err := w.Flush(); err != nil {
		return stdoutErr(err)
	}
	return nil
}

// ringJSON is the "ring" field of shm stat --json, present when the
// object holds a ring at offset 0.
type ringJSON struct {
	Capacity   int    `json:"capacity"`
	MaxMessage int    `json:"max_message"`
	Used       int    `json:"used"`
	Senders    int    `json:"senders"`
	Exclusive  bool   `json:"exclusive,omitempty"`
	Receiver   bool   `json:"receiver"`
	Lost       uint64 `json:"lost"`
	Note       string `json:"note,omitempty"`
}

// ringMagic is the high half of a ring's first word (ring_layout.go in
// package shm: "RING", then the layout version in the low half, native
// byte order); the second word is the ring's size. A ring of another
// version is recognised, and Mapping.RingStats says which version it is.
const ringMagic = 0x52494E47

// isRing reports whether b starts with a ring's first word, of any
// layout version.
func isRing(b []byte) bool {
	return len(b) >= 8 && binary.NativeEndian.Uint64(b)>>32 == ringMagic
}

// ringStat returns the state of the ring at offset 0 of the object name
// of size bytes, or nil if it holds none (or cannot be read). It opens
// and maps the object read-only and reads the ring's state with
// Mapping.RingStats, which writes nothing and attaches to nothing; on
// systems that set access times on a mapping (Linux relatime: at most
// once a day) that marks it accessed. Objects too small for a ring are
// not opened.
func ringStat(name string, size int64) *ringJSON {
	if size < minRingSize {
		return nil
	}
	o, err := shm.OpenReadOnly(name)
	if err != nil {
		return nil
	}
	defer o.Close()
	m, err := o.MapRange(0, 16, shm.ReadOnly)
	if err != nil {
		return nil
	}
	var hdr [16]byte
	_, err = m.ReadAt(hdr[:], 0)
	m.Close()
	if err != nil || !isRing(hdr[:]) {
		return nil
	}
	n := binary.NativeEndian.Uint64(hdr[8:])
	if n < uint64(minRingSize) || n > uint64(size) || n > math.MaxInt {
		return &ringJSON{Note: fmt.Sprintf("a ring header claims %d bytes in a %d-byte object: corrupt", n, size)}
	}
	// The state is read through a read-only mapping, without attaching:
	// nothing is written to the object and nothing registers in it.
	mm, err := o.MapRange(0, int64(n), shm.ReadOnly)
	if err != nil {
		return &ringJSON{Note: err.Error()}
	}
	defer mm.Close()
	st, err := mm.RingStats(0, int(n))
	if err != nil {
		return &ringJSON{Note: err.Error()}
	}
	return &ringJSON{Capacity: st.Capacity, MaxMessage: st.MaxMessage, Used: st.Used, Senders: st.Senders, Exclusive: st.Exclusive, Receiver: st.Receiver, Lost: st.Lost}
}

// printRingStat adds the ring lines to shm stat's output.
func printRingStat(w io.Writer, r *ringJSON) {
	if r.Note != "" {
		fmt.Fprintf(w, "ring:\t%s\n", r.Note)
		return
	}
	fmt.Fprintf(w, "ring:\t%d bytes of messages (%s), each up to %d bytes\n", r.Capacity, formatSize(int64(r.Capacity)), r.MaxMessage)
	fmt.Fprintf(w, "ring used:\t%d bytes (%.1f%%)\n", r.Used, 100*float64(r.Used)/float64(max(r.Capacity, 1)))
	excl := ""
	if r.Exclusive {
		excl = ", one exclusive (no other may send)"
	}
	fmt.Fprintf(w, "ring senders:\t%d live%s\n", r.Senders, excl)
	rx := "none"
	if r.Receiver {
		rx = "live"
	}
	fmt.Fprintf(w, "ring receiver:\t%s\n", rx)
	if r.Lost > 0 {
		fmt.Fprintf(w, "ring lost:\t%d messages (their senders died before committing)\n", r.Lost)
	}
}
