//go:build unix || windows

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/fence"
	"github.com/shmkit/shm/internal/futex"
)

// The ring rows: messages between processes through a shm.Ring against
// the same stream through a Go net.UnixConn, a Go os.Pipe, and a pipe and
// a Unix socketpair with blocking read and write calls on both sides (on
// windows: a Go os.Pipe; streamPeers and pingPeers say, per OS); a
// round trip over two rings; an idle receiver's CPU; and two figures of
// the machine printed beside them: a cache line bounced between two
// processes (says whether the two CPUs are near or far) and memcpy of
// 1 MiB.

// The object of the ring rows: a gate at offset 0 (ready counter, go
// word), the rings from ringBenchOff on.
const (
	gateReady    = 0
	gateGo       = 8
	ringBenchOff = 4096
)

// ringBenchSize is the ring for messages of size bytes: a data area of
// 1 MiB, or for messages over 256 KiB room for four (8 MiB for 1 MiB
// messages), as the package's benchmarks use. With room for two, a 1 MiB
// message meeting the end of the area left most of a message as padding,
// and the stream ran at 2.3x a Unix socket instead of 3x.
//
// RingSize(256 KiB, 2) is a 1 MiB area whatever a record header takes:
// a count of slots computed from the header's size held 1 MiB of 72-byte
// records, and 2 MiB once records of 64 bytes took 80.
func ringBenchSize(size int) int {
	return max(shm.RingSize(size, 4), shm.RingSize(256<<10, 2))
}

// benchRingObject makes the object of the ring rows with nRings rings of
// ring bytes each.
func benchRingObject(ring, nRings int) (*shm.Object, error) {
	return shm.CreateAnon(int64(ringBenchOff + nRings*ring))
}

// benchRings maps o and attaches its rings of ring bytes each. The pages
// are touched first (zeros, as they are), so that no run times the
// faults of a fresh object's first pass.
func benchRings(o *shm.Object, ring, nRings int) (*shm.Mapping, []*shm.Ring, error) {
	m, err := o.Map()
	if err != nil {
		return nil, nil, err
	}
	b := m.Bytes()
	for i := 0; i < len(b); i += 4096 {
		atomic.AddUint32((*uint32)(unsafe.Pointer(&b[i])), 0)
	}
	var rs []*shm.Ring
	for i := range nRings {
		r, err := m.Ring(ringBenchOff+i*ring, ring)
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		rs = append(rs, r)
	}
	// The rows measure the steady state: wait until this process's
	// gates let go with a plain store (internal/fence), which a process
	// has within milliseconds of its first ring, and each slice's
	// children are new processes.
	<-fence.Start()
	return m, rs, nil
}

func gateWord(m *shm.Mapping, off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.Bytes()[off]))
}

// inheritedBenchMapping maps the object a bench child inherited as
// "bench"; done unmaps and closes it.
func inheritedBenchMapping() (m *shm.Mapping, done func(), err error) {
	o, err := shm.Inherited("bench")
	if err != nil {
		return nil, nil, err
	}
	if m, err = o.Map(); err != nil {
		o.Close()
		return nil, nil, err
	}
	return m, func() { m.Close(); o.Close() }, nil
}

// waitWord polls w until pred holds (setup only: never timed).
func waitWord(ctx context.Context, w *uint64, pred func(uint64) bool) error {
	for !pred(atomic.LoadUint64(w)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(20 * time.Microsecond)
	}
	return nil
}

// ringChild is the child side of the ring rows:
//
//	ring send SIZE N [exclusive]
//	                    wait for the gate, send N messages, CloseSend;
//	                    with exclusive as the ring's only sender
//	ring echo SIZE      receive on ring 0, send back on ring 1, until io.EOF
//	ring idle           receive one message, print the CPU used meanwhile
//	stream KIND SIZE N  write N+1 messages of SIZE bytes to the end passed
//	                    (descriptor 3 on Unix; see childEnds): net.UnixConn
//	                    with "uconn", *os.File with "file", raw blocking
//	                    writes with "raw"
//	bounce N            bounce a word in the object with the parent N times
func ringChild(ctx context.Context, stdout io.Writer, pos []string) error {
	ctx, cancel := context.WithTimeout(ctx, benchTimeout)
	defer cancel()
	num := func(i int) (int, error) {
		if len(pos) <= i {
			return 0, fmt.Errorf("%s %s: missing argument %d", benchChildName, pos[0], i)
		}
		n, err := strconv.Atoi(pos[i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s: bad number %q", benchChildName, pos[i])
		}
		return n, nil
	}
	switch pos[0] {
	case "stream":
		if len(pos) != 4 {
			return fmt.Errorf("%s stream: want KIND SIZE N", benchChildName)
		}
		size, err := num(2)
		if err != nil {
			return err
		}
		n, err := num(3)
		if err != nil {
			return err
		}
		return streamChild(pos[1], size, n)
	case "bounce":
		n, err := num(1)
		if err != nil {
			return err
		}
		m, done, err := inheritedBenchMapping()
		if err != nil {
			return err
		}
		defer done()
		w := gateWord(m, 0)
		for i := range uint64(n + warmRounds) {
			if err := spinUntil(ctx, w, 2*i+1); err != nil {
				return err
			}
			atomic.StoreUint64(w, 2*i+2)
		}
		return nil
	case "ring":
	default:
		return fmt.Errorf("%s: unknown mode %q", benchChildName, pos[0])
	}
	if len(pos) < 2 {
		return fmt.Errorf("%s ring: want send, echo or idle", benchChildName)
	}
	o, err := shm.Inherited("bench")
	if err != nil {
		return err
	}
	defer o.Close()
	// rings maps count rings for messages of the size argument 2 gives.
	rings := func(count int) (int, *shm.Mapping, []*shm.Ring, error) {
		size, err := num(2)
		if err != nil {
			return 0, nil, nil, err
		}
		m, rs, err := benchRings(o, ringBenchSize(size), count)
		return size, m, rs, err
	}
	switch pos[1] {
	case "send":
		n, err := num(3)
		if err != nil {
			return err
		}
		size, m, rs, err := rings(1)
		if err != nil {
			return err
		}
		defer m.Close()
		r := rs[0]
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i)
		}
		// The only sender registers as such (a fifth argument
		// "exclusive"): its claims move the tail with a plain store. One
		// goroutine sends: it takes the sending side (a RingSender takes
		// no gate per message).
		if len(pos) > 4 && pos[4] == "exclusive" {
			if err := r.OpenSendExclusive(); err != nil {
				return err
			}
		}
		tx, err := r.Sender(ctx)
		if err != nil {
			return err
		}
		defer tx.Close()
		// One message first registers this sender, so that the receiver
		// sees no end while another sender is still to start.
		if err := tx.Send(ctx, msg); err != nil {
			return err
		}
		atomic.AddUint64(gateWord(m, gateReady), 1)
		if err := waitWord(ctx, gateWord(m, gateGo), func(v uint64) bool { return v != 0 }); err != nil {
			return err
		}
		for range n {
			if err := tx.Send(ctx, msg); err != nil {
				return err
			}
		}
		return tx.CloseSend()
	case "echo", "echo-sleeping":
		_, m, rs, err := rings(2)
		if err != nil {
			return err
		}
		defer m.Close()
		if pos[1] == "echo-sleeping" {
			rs[0].SetSpin(0) // every wait sleeps in the kernel at once
		}
		if err := rs[1].OpenSendExclusive(); err != nil {
			return err
		}
		rx, err := rs[0].Receiver(ctx)
		if err != nil {
			return err
		}
		defer rx.Close()
		tx, err := rs[1].Sender(ctx)
		if err != nil {
			return err
		}
		defer tx.Close()
		var buf []byte
		for {
			buf, err = rx.Receive(ctx, buf)
			if errors.Is(err, io.EOF) {
				return tx.CloseSend()
			}
			if err != nil {
				return err
			}
			if err := tx.Send(ctx, buf); err != nil {
				return err
			}
		}
	case "idle":
		m, rs, err := benchRings(o, ringBenchSize(64), 1)
		if err != nil {
			return err
		}
		defer m.Close()
		// Attach as the receiver before saying ready.
		if _, _, err := rs[0].TryReceive(nil); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "ready")
		before, err := cpuTime()
		if err != nil {
			return err
		}
		if _, err := rs[0].Receive(ctx, nil); err != nil {
			return err
		}
		after, err := cpuTime()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, int64(after-before))
		return nil
	}
	return fmt.Errorf("%s ring: unknown mode %q", benchChildName, pos[1])
}

// spinUntil spins until *w == v, giving up when ctx is done.
func spinUntil(ctx context.Context, w *uint64, v uint64) error {
	for i := 0; atomic.LoadUint64(w) != v; i++ {
		if i&(1<<20-1) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// streamChild writes n+1 messages of size bytes to the end startLinked
// passed it (descriptor 3 on Unix), opened the way kind says (see
// childEnds); the first message starts the parent's clock.
func streamChild(kind string, size, n int) error {
	_, w, done, err := childEnds(kind, 1)
	if err != nil {
		return fmt.Errorf("%s stream: %w", benchChildName, err)
	}
	defer done()
	msg := make([]byte, size)
	for range n + 1 {
		if _, err := w.Write(msg); err != nil {
			return err
		}
	}
	return nil
}

// ringStream runs one timed stream of n messages of size bytes from
// senders child processes into this process through a ring; with peek
// it receives with Peek and Release (zero copy), else with Receive into
// a buffer.
func (b *bencher) ringStream(size, senders int, peek bool, n int) (time.Duration, error) {
	ring := ringBenchSize(size)
	o, err := benchRingObject(ring, 1)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	m, rs, err := benchRings(o, ring, 1)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	r := rs[0]
	defer r.Close()
	// Attach as the receiver before any sender starts, so that the
	// messages that register the senders all come to the loop below.
	if _, ok, err := r.TryReceive(nil); err != nil || ok {
		return 0, fmt.Errorf("ring stream: attaching the receiver to an empty ring: ok %v, %v", ok, err)
	}
	per := (n + senders - 1) / senders
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			reap(c)
		}
	}()
	args := []string{"ring", "send", strconv.Itoa(size), strconv.Itoa(per)}
	if senders == 1 {
		args = append(args, "exclusive") // as a user with one sender would
	}
	for range senders {
		cmd, err := b.startWith(o, args...)
		if err != nil {
			return 0, err
		}
		cmds = append(cmds, cmd)
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	defer cancel()
	// Wait for every sender, then open the gate.
	if err := waitWord(ctx, gateWord(m, gateReady), func(v uint64) bool { return v == uint64(senders) }); err != nil {
		return 0, err
	}
	// One goroutine receives: it takes the receiving side (a
	// RingReceiver takes no gate per message).
	rx, err := r.Receiver(ctx)
	if err != nil {
		return 0, err
	}
	defer rx.Close()
	buf := make([]byte, 0, size)
	for range senders { // the messages that registered the senders
		if buf, err = rx.Receive(ctx, buf); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	atomic.StoreUint64(gateWord(m, gateGo), 1)
	got := 0
	for {
		if peek {
			msg, err := rx.Peek(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, err
			}
			if len(msg) != size {
				return 0, fmt.Errorf("ring stream: a %d-byte message, want %d", len(msg), size)
			}
			if err := rx.Release(); err != nil {
				return 0, err
			}
		} else {
			buf, err = rx.Receive(ctx, buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, err
			}
			if len(buf) != size {
				return 0, fmt.Errorf("ring stream: a %d-byte message, want %d", len(buf), size)
			}
		}
		got++
	}
	el := time.Since(start)
	if got != per*senders {
		// Say what the ring and the senders say, to tell a lost record
		// from an early end.
		st, serr := r.Stats()
		var exits []string
		for _, c := range cmds {
			exits = append(exits, fmt.Sprint(c.Wait()))
		}
		cmds = nil
		return 0, fmt.Errorf("ring stream: received %d messages, then io.EOF; want %d from %d senders (ring stats %+v %v; senders exited: %v)",
			got, per*senders, senders, st, serr, exits)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			cmds = nil
			return 0, fmt.Errorf("bench child: %w", err)
		}
	}
	cmds = nil
	return el * time.Duration(n) / time.Duration(got), nil
}

// peerStream runs one timed stream of n messages of size bytes from a
// child process into this process over the peer link kind (see
// newPeerLink): "uconn" (net.UnixConn on a socketpair), "file"
// (os.Pipe), "rawpipe" or "rawsocket" (blocking system calls at both
// ends).
func (b *bencher) peerStream(kind string, size, n int) (time.Duration, error) {
	l, err := newPeerLink(kind, false)
	if err != nil {
		return 0, err
	}
	defer l.close()
	cmd, err := b.startLinked(l, "stream", l.child, strconv.Itoa(size), strconv.Itoa(n))
	if err != nil {
		return 0, err
	}
	buf := make([]byte, size)
	// One message first: the child has started and connected.
	return timedRounds(cmd, kind+" stream", 1, n, func() error {
		_, err := io.ReadFull(l.mine, buf)
		return err
	})
}

// A peerKind is a peer of the ring rows: the kind of link newPeerLink
// makes, the row's name for it, and why it is not measured here ("" if
// it is).
type peerKind struct{ kind, name, why string }

// firstMeasured is the index of the first peer of ps that is measured.
func firstMeasured(ps []peerKind) int {
	for i, p := range ps {
		if p.why == "" {
			return i
		}
	}
	return -1
}

// ringRows measures every ring row.
func (b *bencher) ringRows() ([]benchRow, error) {
	var rows []benchRow
	probe, err := b.probeRows()
	if err != nil {
		return nil, err
	}
	rows = append(rows, probe...)
	for _, size := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		r, err := b.streamRows(size)
		if err != nil {
			return nil, fmt.Errorf("ring %s: %w", sizeName(size), err)
		}
		rows = append(rows, r...)
	}
	r, err := b.pingRows()
	if err != nil {
		return nil, fmt.Errorf("ring round trip: %w", err)
	}
	rows = append(rows, r...)
	idle, err := b.ringIdle()
	if err != nil {
		return nil, fmt.Errorf("ring idle: %w", err)
	}
	return append(rows, idle), nil
}

func sizeName(size int) string {
	switch {
	case size >= 1<<20:
		return strconv.Itoa(size>>20) + "MiB"
	case size >= 1<<10:
		return strconv.Itoa(size>>10) + "KiB"
	}
	return strconv.Itoa(size) + "B"
}

// rate says what ns per message means for size-byte messages.
func rate(ns float64, size int) string {
	if size >= 64<<10 {
		return fmt.Sprintf("%.2f GB/s", float64(size)/ns)
	}
	return fmt.Sprintf("%.2f M msg/s", 1e3/ns)
}

// streamRows measures the ring's stream of size-byte messages against its
// peers, interleaved: copying at both ends, at 64 KiB also with a
// zero-copy receive, at 64 B also from four sender processes.
func (b *bencher) streamRows(size int) ([]benchRow, error) {
	n0 := max(16, 4096>>(min(size, 1<<20)>>10))
	if size <= 1<<10 {
		n0 = 10000
	}
	cs := []contender{{n0: n0, run: func(n int) (time.Duration, error) { return b.ringStream(size, 1, false, n) }}}
	peers := streamPeers()
	at := make([]int, len(peers)) // where each measured peer is in cs
	for i, p := range peers {
		if p.why == "" {
			at[i] = len(cs)
			cs = append(cs, contender{n0: n0, run: func(n int) (time.Duration, error) { return b.peerStream(p.kind, size, n) }})
		}
	}
	peek, peekAt := size == 64<<10, len(cs)
	if peek {
		cs = append(cs, contender{n0: n0, run: func(n int) (time.Duration, error) { return b.ringStream(size, 1, true, n) }})
	}
	multi, multiAt := size == 64, len(cs)
	if multi {
		cs = append(cs, contender{n0: n0, run: func(n int) (time.Duration, error) { return b.ringStream(size, 4, false, n) }})
	}
	per, err := b.interleave(cs...)
	if err != nil {
		return nil, err
	}
	name := "ring-" + sizeName(size)
	var rows []benchRow
	for i, p := range peers {
		if p.why != "" {
			r := measured(name, per[0], p.name, 0)
			r.Note = fmt.Sprintf("2 processes, copying at both ends: ring %s; peer not measured: %s", rate(per[0], size), p.why)
			rows = append(rows, r)
			continue
		}
		r := measured(name, per[0], p.name, per[at[i]])
		r.Note = fmt.Sprintf("2 processes, copying at both ends: ring %s, peer %s", rate(per[0], size), rate(per[at[i]], size))
		rows = append(rows, r)
	}
	if peek {
		first := firstMeasured(peers)
		r := measured(name+"-peek", per[peekAt], peers[first].name, per[at[first]])
		r.Note = fmt.Sprintf("zero-copy receive (Peek, Release): %s", rate(per[peekAt], size))
		rows = append(rows, r)
	}
	if multi {
		r := measured(name+"-4senders", per[multiAt], "", 0)
		r.Note = fmt.Sprintf("4 sender processes into 1 receiver, ns per message: %s in total", rate(per[multiAt], size))
		rows = append(rows, r)
	}
	return rows, nil
}

// probeRows measures the machine's two reference figures: a cache line
// bounced between two processes, and memcpy of 1 MiB.
func (b *bencher) probeRows() ([]benchRow, error) {
	per, err := b.interleave(contender{n0: 10000, run: b.bounce})
	if err != nil {
		return nil, fmt.Errorf("cache-line probe: %w", err)
	}
	place := "far: the two processes ran on CPUs that share no cache level close by"
	if per[0] < 250 {
		place = "near: the two processes ran on CPUs that share a cache"
	}
	r := measured("cacheline-roundtrip", per[0], "", 0)
	r.Note = "a word bounced between 2 processes in shared memory, spinning; " + place + " (near ~100-140 ns, far ~500 ns)"
	src, dst := make([]byte, 1<<20), make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(i)
	}
	mc, err := b.interleave(inProcess(func(n int) error {
		for range n {
			copy(dst, src)
		}
		return nil
	}))
	if err != nil {
		return nil, err
	}
	m := measured("memcpy-1MiB", mc[0], "", 0)
	m.Note = fmt.Sprintf("copy of 1 MiB in one process: %.1f GB/s", float64(1<<20)/mc[0])
	return []benchRow{r, m}, nil
}

// bounce runs n timed rounds of the cache-line probe.
func (b *bencher) bounce(n int) (time.Duration, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return 0, err
	}
	defer m.Close()
	cmd, err := b.startWith(o, "bounce", strconv.Itoa(n))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	defer cancel()
	w := gateWord(m, 0)
	var start time.Time
	for i := range uint64(n + warmRounds) {
		if i == warmRounds {
			start = time.Now()
		}
		atomic.StoreUint64(w, 2*i+1)
		if err := spinUntil(ctx, w, 2*i+2); err != nil {
			reap(cmd)
			return 0, err
		}
	}
	el := time.Since(start)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("bench child: %w", err)
	}
	return el, nil
}

// The pauses before each round of the asleep and paused rows. asleepPause
// is spent spinning: the echoing child (a ring that never spins, or a
// blocking reader) is asleep in the kernel when the message comes, while
// the CPUs stay as busy as in a back-to-back ping-pong. pingPause is
// slept: the child has long been asleep, and its idle CPU may have been
// halted by the host, which makes every wake-up slower.
const (
	asleepPause = 50 * time.Microsecond
	pingPause   = time.Millisecond
)

// A pinger plays rounds of a 64-byte round trip with a child and records
// each round's time.
type pinger struct {
	start func() error
	round func() error
	stop  func() error
	warm  int // rounds before the clock, if more than warmRounds
}

// pingRows measures 64-byte round trips over two rings against pingPeers
// (on Unix a Go net.UnixConn and the blocking pipe pair and socketpair,
// on windows a Go os.Pipe pair; a peer that cannot run keeps its rows,
// saying why), each with the same pause before every round: none (both
// sides awake), asleepPause spinning with a ring child that never spins
// (the receiver asleep in the kernel), and pingPause slept (the child
// asleep since long).
func (b *bencher) pingRows() ([]benchRow, error) {
	const size = 64
	ring := func(echo string) func() (*pinger, error) {
		return func() (*pinger, error) { return b.ringPinger(size, echo) }
	}
	return b.roundTripRows([]pingMode{
		{"ring-roundtrip-64B-", pingSet{"ring, both awake", 0, false, ring("echo")}},
		{"ring-roundtrip-64B-asleep-", pingSet{"ring, receiver asleep", asleepPause, true, ring("echo-sleeping")}},
		{"ring-roundtrip-64B-paused-", pingSet{"ring, 1 ms pause", pingPause, false, ring("echo")}},
	})
}

// A pingMode is one group of round-trip rows: their name's prefix, and
// the contestant measured against the peers with its pause.
type pingMode struct {
	row  string
	self pingSet
}

// roundTripRows measures each mode's contestant against pingPeers with
// the same pause before every round, and the wake pair (bench_wake.go)
// where there is a pause: the echo then sleeps between rounds, and the
// pair is the floor under it. p50 and p99 of each, from samples taken in
// alternating slices, in rows named the mode's prefix and p50 or p99.
func (b *bencher) roundTripRows(modes []pingMode) ([]benchRow, error) {
	const size = 64
	peersOf := func(pause time.Duration) []peerKind {
		ps := pingPeers()
		if pause > 0 {
			ps = append(ps, peerKind{kind: "wake", name: "wake pair, echo asleep in " + futex.Kind(), why: wakeWhy()})
		}
		return ps
	}
	// conts: per mode, its contestant (at first[mode]), then its measured
	// peers with the same pause.
	var conts []pingSet
	first := make([]int, len(modes))
	for mi, md := range modes {
		first[mi] = len(conts)
		conts = append(conts, md.self)
		for _, p := range peersOf(md.self.pause) {
			if p.why != "" {
				continue
			}
			name := p.name
			switch {
			case md.self.busy:
				name += ", same 50 µs spun"
			case md.self.pause > 0:
				name += ", same pause"
			}
			pin := func() (*pinger, error) { return b.connPinger(p.kind, size) }
			if p.kind == "wake" {
				pin = b.wakePinger
			}
			conts = append(conts, pingSet{name, md.self.pause, md.self.busy, pin})
		}
	}
	samples, err := b.pingSamples(conts)
	if err != nil {
		return nil, err
	}
	var rows []benchRow
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		for mi, md := range modes {
			self := first[mi]
			name := md.row + q.name
			v := percentile(samples[self], q.q)
			j := self + 1
			for _, p := range peersOf(md.self.pause) {
				if p.why != "" {
					r := measured(name, v, p.name, 0)
					r.Note = fmt.Sprintf("%s, %d rounds; peer not measured: %s", conts[self].name, len(samples[self]), p.why)
					rows = append(rows, r)
					continue
				}
				r := measured(name, v, conts[j].name, percentile(samples[j], q.q))
				r.Note = fmt.Sprintf("%s, %d rounds; peer %d rounds, both 2 processes", conts[self].name, len(samples[self]), len(samples[j]))
				rows = append(rows, r)
				j++
			}
		}
	}
	return rows, nil
}

// A pingSet is one contestant of the round-trip rows: its name (in
// errors and notes), the pause before each round, and its pinger's maker.
type pingSet struct {
	name   string
	pause  time.Duration
	busy   bool // the pause is spun, not slept
	newPin func() (*pinger, error)
}

// pingSamples plays the contestants' round trips in nSlices alternating
// slices of b.d/nSlices each, warm rounds first, and returns the time of
// every round of each.
func (b *bencher) pingSamples(conts []pingSet) ([][]time.Duration, error) {
	samples := make([][]time.Duration, len(conts))
	slice := b.d / nSlices
	for range nSlices {
		for i, c := range conts {
			p, err := c.newPin()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			err = p.start()
			warm := max(warmRounds, p.warm)
			t := time.Now()
			for k := 0; err == nil && k < warm; k++ {
				err = p.round()
			}
			// Room for every sample of the slice, so that recording them
			// allocates nothing (a collection would interrupt the rounds).
			if per := time.Since(t) / time.Duration(warm); per > 0 {
				samples[i] = slices.Grow(samples[i], int(slice/per)+1024)
			}
			end := time.Now().Add(slice)
			for err == nil && time.Now().Before(end) {
				switch {
				case c.busy:
					for t := time.Now(); time.Since(t) < c.pause; {
					}
				case c.pause > 0:
					time.Sleep(c.pause)
				}
				t0 := time.Now()
				err = p.round()
				samples[i] = append(samples[i], time.Since(t0))
			}
			if serr := p.stop(); err == nil {
				err = serr
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
		}
	}
	return samples, nil
}

// lapRounds is the warm-up of a round-trip row over a ring of ring bytes:
// the rounds of size-byte messages that fill its data area once (the ring
// less its 4096-byte header; a record is the message and a 16-byte
// header, 16-aligned), then warmRounds.
func lapRounds(ring, size int) int {
	return (ring-4096)/((size+16+15)&^15) + warmRounds
}

// percentile returns the q-quantile of s (sorting s), in ns.
func percentile(s []time.Duration, q float64) float64 {
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(q*float64(len(s))))])
}

// ringPinger plays round trips over two rings with an echoing child.
func (b *bencher) ringPinger(size int, echo string) (*pinger, error) {
	ring := ringBenchSize(size)
	o, err := benchRingObject(ring, 2)
	if err != nil {
		return nil, err
	}
	m, rs, err := benchRings(o, ring, 2)
	if err != nil {
		o.Close()
		return nil, err
	}
	cmd := b.child("ring", echo, strconv.Itoa(size))
	if err := shm.Pass(cmd, "bench", o); err != nil {
		m.Close()
		o.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	msg, buf := make([]byte, size), make([]byte, 0, size)
	// The rounds run one at a time: they send through a RingSender and
	// receive through a RingReceiver, taken at the start.
	var (
		tx *shm.RingSender
		rx *shm.RingReceiver
	)
	endLeases := func() {
		if tx != nil {
			tx.Close()
		}
		if rx != nil {
			rx.Close()
		}
	}
	p := childPinger(cmd, rs[0].CloseSend, func() { endLeases(); m.Close(); o.Close(); cancel() })
	// A lap of the ring before the clock: each page of a fresh ring
	// faults in both processes at its first use, which otherwise lands in
	// the rounds of the first lap (one in about 57 at 64 bytes, more than
	// the 1% that sets the p99).
	p.warm = lapRounds(ring, size)
	start := p.start
	p.start = func() error {
		if err := start(); err != nil {
			return err
		}
		if _, _, err := rs[1].TryReceive(nil); err != nil { // attach as ring 1's receiver
			return err
		}
		if err := rs[0].OpenSendExclusive(); err != nil {
			return err
		}
		var err error
		if tx, err = rs[0].Sender(ctx); err != nil {
			return err
		}
		rx, err = rs[1].Receiver(ctx)
		return err
	}
	p.round = func() error {
		if err := tx.Send(ctx, msg); err != nil {
			return err
		}
		var err error
		buf, err = rx.Receive(ctx, buf)
		if err == nil && len(buf) != size {
			err = fmt.Errorf("echo of %d bytes, want %d", len(buf), size)
		}
		return err
	}
	return p, nil
}

// connPinger plays round trips with an echoing child over the peer
// link kind (see newPeerLink): a Go net.UnixConn ("uconn"), a pipe pair
// or socketpair with blocking system calls ("pipe", "socket"), or a pair
// of Go os.Pipes ("file").
func (b *bencher) connPinger(kind string, size int) (*pinger, error) {
	l, err := newPeerLink(kind, true)
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	msg, buf := make([]byte, size), make([]byte, size)
	return &pinger{
		start: func() error {
			var err error
			if cmd, err = b.startLinked(l, "echo", l.child, strconv.Itoa(size)); err != nil {
				l.close()
			}
			return err
		},
		round: func() error {
			if _, err := l.mine.Write(msg); err != nil {
				return err
			}
			_, err := io.ReadFull(l.mine, buf)
			return err
		},
		stop: func() error {
			l.close() // the child reads io.EOF and ends
			if cmd == nil {
				closeOnce(l.theirs)
				return nil
			}
			return cmd.Wait()
		},
	}, nil
}

// echoStream is the child of connPinger: it echoes size-byte messages
// from its first end to its last until io.EOF, opening them the way kind
// says (see childEnds).
func echoStream(kind string, size int) error {
	r, w, done, err := childEnds(kind, 2)
	if err != nil {
		return err
	}
	defer done()
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(r, buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// ringIdle measures the CPU a child asleep in Ring.Receive on an empty
// ring uses, as idleSemaphore does for the semaphore.
func (b *bencher) ringIdle() (benchRow, error) {
	ring := ringBenchSize(64)
	o, err := benchRingObject(ring, 1)
	if err != nil {
		return benchRow{}, err
	}
	defer o.Close()
	m, rs, err := benchRings(o, ring, 1)
	if err != nil {
		return benchRow{}, err
	}
	defer m.Close()
	release := func() error { return rs[0].Send(b.ctx, []byte("wake")) }
	r, err := b.idleRun(o, "ring-idle-receiver", "Ring.Receive on an empty ring", []string{"ring", "idle"}, release)
	if err == nil && b.d < ringIdleProbe {
		r.Note += fmt.Sprintf("; the receiver probes its senders every %v, so a shorter window may hold no wake-up: --time 10s measures one or two", ringIdleProbe)
	}
	return r, err
}

// ringIdleProbe is how often a receiver asleep on an empty ring wakes to
// probe its senders (the package's ringIdleSlice).
const ringIdleProbe = 5 * time.Second
