//go:build unix

package shm_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/fence"
	"golang.org/x/sys/unix"
)

// Two-process ring benchmarks, each beside its peers in the same run:
// net.UnixConn (a stream socketpair) and os.Pipe. The peer process is this
// test binary (helper "ring-bench"); it is started and ready before the
// timer starts. Figures and ratios are recorded in BENCHMARKS.md.

func init() { registerHelper("ring-bench", ringBenchChild) }

var ringBenchSizes = []struct {
	name string
	size int
}{{"64B", 64}, {"1KiB", 1024}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// ringBenchBytes is the ring size used for messages of size bytes: a
// data area of 1 MiB (RingSize(256 KiB, 2), whatever a header takes), or
// room for four messages when that is more (8 MiB for 1 MiB ones).
func ringBenchBytes(size int) int {
	return max(shm.RingSize(size, 4), shm.RingSize(256<<10, 2))
}

// ringBenchChild is the peer process. Arguments: kind (ring, ring-zc,
// unix, pipe, cacheline), role (sink, echo, send), message size, ring
// size, and a count: for send the messages to send, for sink the
// warm-up messages after which it prints "warm". A sink prints "done"
// at the end of its input.
func ringBenchChild(args []string) int {
	kind, role := args[0], args[1]
	size, _ := strconv.Atoi(args[2])
	n, _ := strconv.Atoi(args[3])
	count, _ := strconv.Atoi(args[4])
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	ctx := context.Background()
	buf := make([]byte, max(size, 1<<16))
	if kind == "unix" || kind == "pipe" {
		f := os.NewFile(3, "peer")
		var rw io.ReadWriter = f
		if kind == "unix" {
			c, err := net.FileConn(f)
			if err != nil {
				return fail(err)
			}
			rw = c
		}
		fmt.Println("ready")
		switch role {
		case "sink":
			var total int64
			warm := int64(count) * int64(size)
			for {
				k, err := rw.Read(buf)
				if total < warm && total+int64(k) >= warm {
					fmt.Println("warm")
				}
				total += int64(k)
				if err == io.EOF {
					break
				}
				if err != nil {
					return fail(err)
				}
			}
			fmt.Println("done")
		case "echo":
			msg := buf[:size]
			for {
				if _, err := io.ReadFull(rw, msg); err == io.EOF {
					break
				} else if err != nil {
					return fail(err)
				}
				if _, err := rw.Write(msg); err != nil {
					return fail(err)
				}
			}
		}
		return 0
	}
	rings := 2
	if kind == "cacheline" {
		rings = 0
	}
	_, m, rs, err := childRings("bench", n, rings)
	if err != nil {
		return fail(err)
	}
	// Measure the steady state: this new process's gates let go with a
	// plain store once its fence registration ends (internal/fence),
	// within milliseconds of its first ring.
	<-fence.Start()
	if kind == "cacheline" {
		w := (*uint32)(unsafe.Pointer(&m.Bytes()[0]))
		fmt.Println("ready")
		for {
			v := atomic.LoadUint32(w)
			if v == ^uint32(0) {
				return 0
			}
			if v&1 == 1 {
				atomic.StoreUint32(w, v+1)
			}
		}
	}
	in, out := rs[0], rs[1]
	if kind == "ring-sleep" {
		in.SetSpin(0) // every wait sleeps in the kernel at once
	}
	if role == "echo" {
		if err := out.OpenSendExclusive(); err != nil { // the echo's only sender
			return fail(err)
		}
	}
	if role == "idle-recv" || role == "idle-send" {
		// Print the CPU time (ns) this process used while blocked in
		// one Receive (on an empty ring) or one Send (on a full ring).
		msg := make([]byte, size)
		if role == "idle-send" {
			for {
				ok, err := in.TrySend(msg)
				if err != nil {
					return fail(err)
				}
				if !ok {
					break
				}
			}
		} else if _, _, err := in.TryReceive(nil); err != nil {
			return fail(err)
		}
		fmt.Println("ready")
		before := cpuNanos()
		var err error
		if role == "idle-send" {
			err = in.Send(ctx, msg)
		} else {
			_, err = in.Receive(ctx, nil)
		}
		if err != nil && err != io.EOF {
			return fail(err)
		}
		fmt.Println(cpuNanos() - before)
		return 0
	}
	if role == "send" {
		msg := make([]byte, size)
		// Attach as a sender before saying ready, so that the receiver
		// sees no end before every sender has started.
		if err := in.OpenSend(); err != nil {
			return fail(err)
		}
		fmt.Println("ready")
		for range count {
			if err := in.Send(ctx, msg); err != nil {
				return fail(err)
			}
		}
		in.CloseSend()
		return 0
	}
	if _, _, err := in.TryReceive(nil); err != nil { // attach as the receiver
		return fail(err)
	}
	// One goroutine receives (and echoes): it takes the sides.
	rx, err := in.Receiver(ctx)
	if err != nil {
		return fail(err)
	}
	defer rx.Close()
	var tx *shm.RingSender
	if role == "echo" {
		if tx, err = out.Sender(ctx); err != nil {
			return fail(err)
		}
		defer tx.Close()
	}
	fmt.Println("ready")
	for i := 1; ; i++ {
		var msg []byte
		var err error
		if kind == "ring-zc" {
			msg, err = rx.Peek(ctx)
		} else {
			msg, err = rx.Receive(ctx, buf)
		}
		if err == io.EOF {
			if role == "sink" {
				fmt.Println("done")
			}
			return 0
		}
		if err != nil {
			return fail(err)
		}
		if role == "sink" && i == count {
			fmt.Println("warm")
		}
		if role == "echo" {
			if err := tx.Send(ctx, msg); err != nil {
				return fail(err)
			}
		} else if kind == "ring-zc" {
			// Read the message as a consumer would, without copying.
			var x byte
			for i := 0; i < len(msg); i += 64 {
				x ^= msg[i]
			}
			_ = x
		}
		if kind == "ring-zc" {
			rx.Release()
		}
	}
}

// benchPeer starts the peer and waits for its "ready".
type benchPeer struct {
	cmd  *exec.Cmd
	conn io.ReadWriteCloser // unix and pipe kinds
	in   *shm.Ring          // ring kinds: the parent sends into in...
	out  *shm.Ring          // ...and receives from out
	tx   *shm.RingSender    // in's sending side (sink and echo roles)
	rx   *shm.RingReceiver  // out's receiving side (echo role)
	m    *shm.Mapping
	out_ *bufio.Scanner // the peer's stdout lines
}

func startBenchPeer(b *testing.B, kind, role string, size, count int) *benchPeer {
	b.Helper()
	n := ringBenchBytes(size)
	args := []string{kind, role, strconv.Itoa(size), strconv.Itoa(n), strconv.Itoa(count)}
	cmd := helperCommand(b, "ring-bench", args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPeer{cmd: cmd}
	switch kind {
	case "unix":
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
		c, err := net.FileConn(mine)
		mine.Close()
		if err != nil {
			b.Fatal(err)
		}
		p.conn = c
		cmd.ExtraFiles = []*os.File{theirs}
		defer theirs.Close()
	case "pipe":
		if role == "echo" {
			b.Fatal("pipe echo needs two pipes")
		}
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		p.conn = w
		cmd.ExtraFiles = []*os.File{r}
		defer r.Close()
	default:
		o, err := shm.CreateAnon(int64(2 * n))
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		if p.m, err = o.Map(); err != nil {
			b.Fatal(err)
		}
		if kind != "cacheline" {
			if p.in, err = p.m.Ring(0, n); err != nil {
				b.Fatal(err)
			}
			if p.out, err = p.m.Ring(n, n); err != nil {
				b.Fatal(err)
			}
			// This process is the only sender of ring 0 where it sends
			// at all, as a user with one sender would say.
			// One goroutine sends and receives: it takes the sides
			// (ring_lease.go).
			if role == "sink" || role == "echo" {
				if err := p.in.OpenSendExclusive(); err != nil {
					b.Fatal(err)
				}
				if p.tx, err = p.in.Sender(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			if role == "echo" {
				if p.rx, err = p.out.Receiver(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := shm.Pass(cmd, "bench", o); err != nil {
			b.Fatal(err)
		}
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p.out_ = bufio.NewScanner(stdout)
	p.expect(b, "ready")
	return p
}

// expect reads the peer's next line, which must be want.
func (p *benchPeer) expect(b *testing.B, want string) {
	b.Helper()
	if !p.out_.Scan() || p.out_.Text() != want {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		b.Fatalf("the benchmark peer did not say %q", want)
	}
}

// end ends the parent's sending; a sink then says "done".
func (p *benchPeer) end() {
	if p.conn != nil {
		p.conn.Close()
	}
	if p.in != nil {
		p.in.CloseSend()
	}
}

// finish ends the parent's sending and waits for the peer to exit.
func (p *benchPeer) finish(b *testing.B) {
	b.Helper()
	p.end()
	if err := p.cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	if p.in != nil {
		if p.tx != nil {
			p.tx.Close()
		}
		if p.rx != nil {
			p.rx.Close()
		}
		p.in.Close()
		p.out.Close()
	}
	if p.m != nil {
		p.m.Close()
	}
}

// BenchmarkRingThroughput: one sender (this process), one receiver
// process, messages of each size. ring copies at both ends; ring-zc
// receives in place (Peek/Release, reading one byte per cache line); unix
// and pipe are the Go peers writing the same bytes; memcpy is this
// process copying the same bytes, the machine's limit.
func BenchmarkRingThroughput(b *testing.B) {
	for _, sz := range ringBenchSizes {
		b.Run(sz.name, func(b *testing.B) {
			for _, kind := range []string{"ring", "ring-zc", "unix", "pipe"} {
				b.Run(kind, func(b *testing.B) {
					// Two laps of the ring warm it up (page faults
					// in both processes) before the timer starts.
					warm := 2 * (ringBenchBytes(sz.size) - 4096) / shm.RingRecordSize(sz.size)
					p := startBenchPeer(b, kind, "sink", sz.size, warm)
					msg := make([]byte, sz.size)
					ctx := context.Background()
					send := func() {
						var err error
						if p.in != nil {
							err = p.tx.Send(ctx, msg)
						} else {
							_, err = p.conn.Write(msg)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					for range warm {
						send()
					}
					p.expect(b, "warm")
					b.SetBytes(int64(sz.size))
					b.ResetTimer()
					for range b.N {
						send()
					}
					p.end()
					p.expect(b, "done") // the receiver has everything
					b.StopTimer()
					p.finish(b)
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
				})
			}
			b.Run("memcpy", func(b *testing.B) {
				src, dst := make([]byte, sz.size), make([]byte, 8<<20)
				b.SetBytes(int64(sz.size))
				off := 0
				for b.Loop() {
					if off+sz.size > len(dst) {
						off = 0
					}
					copy(dst[off:], src)
					off += sz.size
				}
			})
		})
	}
}

// BenchmarkRingFourSenders: four sender processes into one receiver (this
// process), 64-byte messages, copying at both ends.
func BenchmarkRingFourSenders(b *testing.B) {
	const size = 64
	n := ringBenchBytes(size)
	o, err := shm.CreateAnon(int64(2 * n))
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	rx, err := m.Ring(0, n)
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	if _, _, err := rx.TryReceive(nil); err != nil {
		b.Fatal(err)
	}
	each := (b.N + 3) / 4
	var kids []*exec.Cmd
	for range 4 {
		cmd := helperCommand(b, "ring-bench", "ring", "send", strconv.Itoa(size), strconv.Itoa(n), strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		stdout, _ := cmd.StdoutPipe()
		if err := shm.Pass(cmd, "bench", o); err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if s := bufio.NewScanner(stdout); !s.Scan() {
			b.Fatal("sender did not start")
		}
		kids = append(kids, cmd)
	}
	b.ResetTimer()
	buf := make([]byte, size)
	got := 0
	for {
		msg, err := rx.Receive(context.Background(), buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		buf = msg
		got++
	}
	b.StopTimer()
	for _, k := range kids {
		k.Wait()
	}
	if got != 4*each {
		b.Fatalf("received %d of %d", got, 4*each)
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkRingRoundTrip: ping-pong of 64 bytes with an echo process,
// over two rings and over a Unix socket; p50 and p99 of the round trip.
// In ring-asleep the echo process never spins (SetSpin(0)) and the
// parent spins 50 µs before each ping, so the echo process is asleep in
// the kernel when the ping arrives, as a blocking reader would be. ring-paused pauses 1 ms between round trips
// instead, so that the echo process (with the default spin) has gone to
// sleep, and its idle CPU perhaps halted, when each ping arrives (ns/op
// then counts the pause; the percentiles do not). cacheline is the
// placement probe: the round trip of one cache line between two spinning
// processes.
// ringAsleepPause is the busy pause before each ping of ring-asleep.
const ringAsleepPause = 50 * time.Microsecond

func BenchmarkRingRoundTrip(b *testing.B) {
	const size = 64
	for _, kind := range []string{"ring", "ring-asleep", "ring-paused", "unix", "cacheline"} {
		b.Run(kind, func(b *testing.B) {
			peerKind := kind
			switch kind {
			case "ring-asleep":
				peerKind = "ring-sleep"
			case "ring-paused":
				peerKind = "ring"
			}
			p := startBenchPeer(b, peerKind, "echo", size, 0)
			ctx := context.Background()
			msg, back := make([]byte, size), make([]byte, size)
			lat := make([]time.Duration, 0, min(b.N, 1<<20)) // the first 1M
			var w *uint32
			if kind == "cacheline" {
				w = (*uint32)(unsafe.Pointer(&p.m.Bytes()[0]))
			}
			b.ResetTimer()
			for i := range b.N {
				switch kind {
				case "ring-asleep":
					// Spin 50 µs: the echo process, which never spins, is
					// asleep in the kernel when the ping comes; this CPU
					// stays busy, as a blocking pipe pair's writer is.
					for t := time.Now(); time.Since(t) < ringAsleepPause; {
					}
				case "ring-paused":
					time.Sleep(time.Millisecond)
				}
				t0 := time.Now()
				switch kind {
				case "ring", "ring-asleep", "ring-paused":
					if err := p.tx.Send(ctx, msg); err != nil {
						b.Fatal(err)
					}
					var err error
					if back, err = p.rx.Receive(ctx, back); err != nil {
						b.Fatal(err)
					}
				case "unix":
					if _, err := p.conn.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(p.conn, back); err != nil {
						b.Fatal(err)
					}
				case "cacheline":
					v := uint32(2*i + 1)
					atomic.StoreUint32(w, v)
					for atomic.LoadUint32(w) == v {
					}
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			if w != nil {
				atomic.StoreUint32(w, ^uint32(0))
				p.cmd.Wait()
				p.m.Close()
			} else {
				p.finish(b)
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			}
		})
	}
}

// BenchmarkRingSendReceive: the cost of the operations themselves, one
// goroutine sending and receiving 64-byte messages in turn (no other
// process, no waiting). In batch, it sends 64 messages and then receives
// them, as a sender and a receiver that share one CPU take turns: the
// CPU cost per message of a stream whose two processes the kernel placed
// on one CPU.
func BenchmarkRingSendReceive(b *testing.B) {
	b.Run("batch", func(b *testing.B) {
		_, r := newRing(b, ringBenchBytes(64))
		msg, buf := make([]byte, 64), make([]byte, 64)
		ctx := context.Background()
		const turn = 64
		for i := 0; b.Loop(); i++ {
			if err := r.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if i%turn != turn-1 {
				continue
			}
			for range turn {
				var err error
				if buf, err = r.Receive(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, zc := range []bool{false, true} {
		name := "copy"
		if zc {
			name = "zerocopy"
		}
		b.Run(name, func(b *testing.B) {
			_, r := newRing(b, ringBenchBytes(64))
			msg, buf := make([]byte, 64), make([]byte, 64)
			ctx := context.Background()
			for b.Loop() {
				if zc {
					room, err := r.Reserve(ctx, 64)
					if err != nil {
						b.Fatal(err)
					}
					copy(room, msg)
					r.Commit(64)
					if _, err := r.Peek(ctx); err != nil {
						b.Fatal(err)
					}
					r.Release()
					continue
				}
				if err := r.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Receive(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// cpuNanos returns the CPU time this process has used.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkRingIdle: the CPU a blocked receiver (empty ring, a live
// sender) and a blocked sender (full ring, a live receiver) use while
// nothing happens, as a percentage of one CPU. Each op is 2 s of idling.
func BenchmarkRingIdle(b *testing.B) {
	for _, role := range []string{"idle-recv", "idle-send"} {
		b.Run(role, func(b *testing.B) {
			var used, idle time.Duration
			for range b.N {
				p := startBenchPeer(b, "ring", role, 64, 0)
				if role == "idle-recv" {
					// Register as a live sender, so that the receiver
					// waits rather than ending.
					if err := p.in.OpenSend(); err != nil {
						b.Fatal(err)
					}
				} else if _, _, err := p.in.TryReceive(nil); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				time.Sleep(2 * time.Second)
				if role == "idle-recv" {
					p.in.CloseSend()
				} else if _, err := p.in.Receive(context.Background(), nil); err != nil {
					b.Fatal(err)
				}
				if !p.out_.Scan() {
					b.Fatal("no figure from the peer")
				}
				ns, err := strconv.ParseInt(p.out_.Text(), 10, 64)
				if err != nil {
					b.Fatal(err)
				}
				idle += time.Since(t0)
				used += time.Duration(ns)
				p.finish(b)
			}
			b.ReportMetric(100*float64(used)/float64(idle), "%cpu")
		})
	}
}
