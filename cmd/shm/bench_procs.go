//go:build unix || windows

package main

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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm"
)

// The rows of shm bench that run between processes sharing memory, and
// their child side: on Unix and on windows. The per-OS pieces (the peer
// links, handing their ends to a child, CPU time) are in bench_unix.go
// and bench_windows.go.

// benchChildName is the hidden subcommand that plays the far side of the
// two-process benchmarks.
const benchChildName = "__bench-child"

// warmRounds are played before the clock starts, so that both processes
// are running and the semaphores' spin estimate has settled.
const warmRounds = 200

var cmdBenchChild = &command{
	name:   benchChildName,
	hidden: true,
	args:   "sem|pipe|socket|file ROUNDS | sem-echo | idle [mutex] | ring ... | stream ... | echo KIND SIZE | bounce N | wake | conn NETWORK PATH MODE SIZE [N]",
	help:   "The child side of shm bench; not for use by hand.",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		pos, err := c.parse(e, c.flags(), args, false)
		if err != nil {
			return err
		}
		if len(pos) >= 1 && pos[0] == "idle" {
			return idleChild(ctx, e.stdout, len(pos) == 2 && pos[1] == "mutex")
		}
		if len(pos) >= 1 {
			switch pos[0] {
			case "ring", "stream", "bounce":
				return ringChild(ctx, e.stdout, pos)
			case "conn":
				return connChild(ctx, pos)
			case "wake":
				return wakeChild(ctx)
			case "sem-echo":
				return semEchoChild(ctx)
			case "echo":
				if len(pos) != 3 {
					return fmt.Errorf("%s echo: want KIND SIZE", benchChildName)
				}
				size, err := strconv.Atoi(pos[2])
				if err != nil || size < 1 {
					return fmt.Errorf("%s: bad size %q", benchChildName, pos[2])
				}
				return echoStream(pos[1], size)
			}
		}
		if len(pos) != 2 {
			return fmt.Errorf("%s: want MODE ROUNDS or idle", benchChildName)
		}
		n, err := strconv.Atoi(pos[1])
		if err != nil || n < 1 {
			return fmt.Errorf("%s: bad rounds %q", benchChildName, pos[1])
		}
		switch pos[0] {
		case "sem":
			return semChild(ctx, n)
		case "pipe", "socket", "file":
			return echoBytes(pos[0], n+warmRounds)
		}
		return fmt.Errorf("%s: unknown mode %q", benchChildName, pos[0])
	},
}

// benchSems maps the object passed as "bench" and returns the two
// semaphores at its start and the function that unmaps it.
func benchSems(o *shm.Object) (ping, pong *shm.Semaphore, done func(), err error) {
	m, err := o.Map()
	if err != nil {
		return nil, nil, nil, err
	}
	if ping, pong, err = semsOf(m); err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return ping, pong, func() { m.Close() }, nil
}

// semsOf returns the two semaphores at the start of m.
func semsOf(m *shm.Mapping) (ping, pong *shm.Semaphore, err error) {
	if ping, err = m.Semaphore(0); err == nil {
		pong, err = m.Semaphore(8)
	}
	return ping, pong, err
}

// benchMutexOffset is where the idle rows' mutex lies in the object,
// past the two semaphores.
const benchMutexOffset = 64

// benchMutex maps o and returns a handle on its mutex.
func benchMutex(o *shm.Object) (*shm.Mutex, func(), error) {
	m, err := o.Map()
	if err != nil {
		return nil, nil, err
	}
	mu, err := m.Mutex(benchMutexOffset)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return mu, func() { m.Close() }, nil
}

// semChild answers n+warmRounds rounds on the two semaphores of the
// inherited object: wait on the first, post the second.
func semChild(ctx context.Context, n int) error {
	o, err := shm.Inherited("bench")
	if err != nil {
		return err
	}
	defer o.Close()
	ping, pong, done, err := benchSems(o)
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, benchTimeout)
	defer cancel()
	for range n + warmRounds {
		if err := ping.Wait(ctx); err != nil {
			return err
		}
		if err := pong.Post(); err != nil {
			return err
		}
	}
	return nil
}

// idleChild takes the object passed as "bench", says "ready", and waits
// on its first semaphore, or for its mutex; then it prints the CPU time
// (user and system, the whole process) it used while waiting, in ns.
func idleChild(ctx context.Context, stdout io.Writer, mutex bool) error {
	o, err := shm.Inherited("bench")
	if err != nil {
		return err
	}
	defer o.Close()
	ctx, cancel := context.WithTimeout(ctx, benchTimeout)
	defer cancel()
	var wait func() error
	if mutex {
		mu, done, err := benchMutex(o)
		if err != nil {
			return err
		}
		defer done()
		wait = func() error {
			if err := mu.Lock(ctx); err != nil {
				return err
			}
			return mu.Unlock()
		}
	} else {
		ping, _, done, err := benchSems(o)
		if err != nil {
			return err
		}
		defer done()
		wait = func() error { return ping.Wait(ctx) }
	}
	fmt.Fprintln(stdout, "ready")
	before, err := cpuTime()
	if err != nil {
		return err
	}
	if err := wait(); err != nil {
		return err
	}
	after, err := cpuTime()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, int64(after-before))
	return nil
}

func (b *bencher) child(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(b.ctx, b.exe, append([]string{benchChildName}, args...)...)
	cmd.Stderr = b.stderr
	dieWithParent(cmd)
	return cmd
}

// startWith starts the bench child args with o passed as "bench".
func (b *bencher) startWith(o *shm.Object, args ...string) (*exec.Cmd, error) {
	cmd := b.child(args...)
	if err := shm.Pass(cmd, "bench", o); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// reap kills cmd after a failure and waits for it.
func reap(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// childPinger returns a pinger whose far side is the child cmd, not yet
// started: its start starts the child; its stop tells the child to end
// (end) and waits for it, killing it if end fails, and then runs release,
// which also runs when the child never started. The caller sets round,
// and may wrap start.
func childPinger(cmd *exec.Cmd, end func() error, release func()) *pinger {
	started := false
	return &pinger{
		start: func() error {
			if err := cmd.Start(); err != nil {
				return err
			}
			started = true
			return nil
		},
		stop: func() error {
			defer release()
			if !started {
				return nil
			}
			if err := end(); err != nil {
				reap(cmd)
				return err
			}
			return cmd.Wait()
		},
	}
}

// pingPong measures round trips between this process and a child over
// two shm semaphores, and over the peers (semPeers), interleaved.
func (b *bencher) pingPong() ([]benchRow, error) {
	const name = "semaphore-pingpong"
	cs := []contender{{n0: 1000, run: b.semRounds}}
	at := make([]int, len(semPeers)) // where each measured peer is in cs
	for i, p := range semPeers {
		if p.why == "" {
			at[i] = len(cs)
			cs = append(cs, contender{n0: 100, run: func(n int) (time.Duration, error) { return b.byteRounds(p.kind, n) }})
		}
	}
	const cName = "C sem_t (pshared), 2 processes"
	c, why := (*contender)(nil), cPeerWhy
	if why == "" {
		c, why = b.cContender("sem", 100)
	}
	if c != nil {
		cs = append(cs, *c)
	}
	per, err := b.interleave(cs...)
	if err != nil {
		return nil, fmt.Errorf("ping-pong: %w", err)
	}
	cRow := measured(name, per[0], cName, 0)
	if c != nil {
		cRow = measured(name, per[0], cName, per[len(cs)-1])
	} else {
		cRow.Note = why
	}
	rows := []benchRow{cRow}
	for i, p := range semPeers {
		r := measured(name, per[0], p.name, 0)
		if p.why == "" {
			r = measured(name, per[0], p.name, per[at[i]])
		}
		r.Note = p.why
		rows = append(rows, r)
	}
	paused, err := b.semPausedRows()
	if err != nil {
		return nil, fmt.Errorf("ping-pong after a pause: %w", err)
	}
	return append(rows, paused...), nil
}

// semPausedRows measures the semaphore round trip after a pause of
// pingPause before each round, with its peers (pingPeers and the wake
// pair) paused the same, as the ring's paused rows do: the child has long
// been asleep in the kernel when a round starts.
func (b *bencher) semPausedRows() ([]benchRow, error) {
	return b.roundTripRows([]pingMode{
		{"semaphore-pingpong-paused-", pingSet{"semaphores, 1 ms pause", pingPause, false, b.semPinger}},
	})
}

// semStopOffset is where semPinger's stop word lies in its object, past
// the two semaphores.
const semStopOffset = 64

// semPinger plays round trips over two shm semaphores with a child that
// echoes them (semEchoChild) until the stop word is set.
func (b *bencher) semPinger() (*pinger, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return nil, err
	}
	m, err := o.Map()
	if err != nil {
		o.Close()
		return nil, err
	}
	release := func() { m.Close(); o.Close() }
	ping, pong, err := semsOf(m)
	if err != nil {
		release()
		return nil, err
	}
	cmd := b.child("sem-echo")
	if err := shm.Pass(cmd, "bench", o); err != nil {
		release()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	stop := wakeWord(m, semStopOffset)
	p := childPinger(cmd, func() error {
		atomic.StoreUint32(stop, 1)
		return ping.Post()
	}, func() { release(); cancel() })
	p.round = func() error {
		if err := ping.Post(); err != nil {
			return err
		}
		return pong.Wait(ctx)
	}
	return p, nil
}

// semEchoChild answers semPinger's rounds: it waits on the first
// semaphore and posts the second, until the stop word is set.
func semEchoChild(ctx context.Context) error {
	m, done, err := inheritedBenchMapping()
	if err != nil {
		return err
	}
	defer done()
	ping, pong, err := semsOf(m)
	if err != nil {
		return err
	}
	stop := wakeWord(m, semStopOffset)
	ctx, cancel := context.WithTimeout(ctx, benchTimeout)
	defer cancel()
	for {
		if err := ping.Wait(ctx); err != nil {
			return err
		}
		if atomic.LoadUint32(stop) != 0 {
			return nil
		}
		if err := pong.Post(); err != nil {
			return err
		}
	}
}

// semRounds plays n timed rounds over two shm semaphores with a child.
func (b *bencher) semRounds(n int) (time.Duration, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return 0, err
	}
	defer o.Close()
	ping, pong, done, err := benchSems(o)
	if err != nil {
		return 0, err
	}
	defer done()
	cmd, err := b.startWith(o, "sem", strconv.Itoa(n))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
	defer cancel()
	return timedRounds(cmd, "semaphore ping-pong", warmRounds, n, func() error {
		if err := ping.Post(); err != nil {
			return err
		}
		return pong.Wait(ctx)
	})
}

// benchStall is how long timedRounds lets a child go without a round
// (tests shorten it).
var benchStall = benchTimeout

// timedRounds runs round warm+n times with the child cmd, times the last
// n, waits for the child and returns the time. A child that stops
// answering cannot hang it: when no round completes for benchStall the
// child is killed, which closes its ends of the pipes and sockets (this
// process holds no copy of them) and so fails the blocked round; the
// error then says so, naming what.
func timedRounds(cmd *exec.Cmd, what string, warm, n int, round func() error) (time.Duration, error) {
	var rounds atomic.Uint64
	var stalled atomic.Bool
	stop := make(chan struct{})
	stopWatch := sync.OnceFunc(func() { close(stop) })
	defer stopWatch()
	go func() {
		t := time.NewTicker(benchStall)
		defer t.Stop()
		for last := uint64(0); ; {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			now := rounds.Load()
			if now == last {
				stalled.Store(true)
				cmd.Process.Kill()
				return
			}
			last = now
		}
	}()
	var start time.Time
	for i := range warm + n {
		if i == warm {
			start = time.Now()
		}
		if err := round(); err != nil {
			reap(cmd)
			if stalled.Load() {
				return 0, fmt.Errorf("%s: the child made no progress for %v and was killed: %w", what, benchStall, err)
			}
			return 0, err
		}
		rounds.Add(1)
	}
	el := time.Since(start)
	stopWatch() // the child may take its time to exit
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("bench child: %w", err)
	}
	return el, nil
}

// byteRounds plays n timed rounds of one byte each way with a child over
// the peer link kind (see newPeerLink): on Unix a pipe pair or a
// socketpair with blocking read and write calls on both sides (no Go
// poller in the way), on windows a pair of Go os.Pipes. A child that
// stops answering cannot hang it (see timedRounds).
func (b *bencher) byteRounds(kind string, n int) (time.Duration, error) {
	l, err := newPeerLink(kind, true)
	if err != nil {
		return 0, err
	}
	defer l.close()
	cmd, err := b.startLinked(l, kind, strconv.Itoa(n))
	if err != nil {
		return 0, err
	}
	buf := []byte{0}
	return timedRounds(cmd, kind+" ping-pong", warmRounds, n, func() error {
		if _, err := l.mine.Write(buf); err != nil {
			return err
		}
		_, err := io.ReadFull(l.mine, buf)
		return err
	})
}

// A peerLink is a transport of a peer row between this process and a
// child: this process's end, and the child's ends, which the child opens
// with childEnds (on Unix they are its descriptors 3 and on).
type peerLink struct {
	mine   io.ReadWriter
	theirs []*os.File
	child  string // the kind the child is told: "raw", "uconn" or "file"
	closer []func() error
}

// close closes this process's end.
func (l *peerLink) close() {
	for _, c := range l.closer {
		c()
	}
	l.closer = nil
}

// startLinked starts the bench child args with the child's ends of l
// passed to it, and closes this process's copies of them: from then on
// only the child holds them, so that its death ends a blocked read here.
func (b *bencher) startLinked(l *peerLink, args ...string) (*exec.Cmd, error) {
	cmd := b.child(args...)
	err := passFiles(cmd, l.theirs)
	if err == nil {
		err = cmd.Start()
	}
	closeOnce(l.theirs)
	if err != nil {
		return nil, err
	}
	return cmd, nil
}

// closeOnce closes each distinct file of fs once.
func closeOnce(fs []*os.File) {
	for i, f := range fs {
		if !slices.Contains(fs[:i], f) {
			f.Close()
		}
	}
}

// childEnds opens, in a bench child, the n ends startLinked passed it,
// as a reader (the first) and a writer (the last), the way kind says:
// "raw" (blocking system calls), "uconn" (a net.UnixConn on the first)
// or "file" (the *os.File).
func childEnds(kind string, n int) (io.Reader, io.Writer, func(), error) {
	fs, err := childFiles(n)
	if err != nil {
		return nil, nil, nil, err
	}
	done := func() { closeOnce(fs) }
	in, out := fs[0], fs[len(fs)-1]
	switch kind {
	case "file":
		return in, out, done, nil
	case "raw":
		r, w, err := rawEnds(in, out)
		if err != nil {
			done()
			return nil, nil, nil, err
		}
		return r, w, done, nil
	case "uconn":
		c, err := net.FileConn(in)
		if err != nil {
			done()
			return nil, nil, nil, err
		}
		return c, c, func() { c.Close(); done() }, nil
	}
	done()
	return nil, nil, nil, fmt.Errorf("%s: unknown kind %q", benchChildName, kind)
}

// childKind is how the child of the peer link kind opens its ends.
func childKind(kind string) string {
	switch kind {
	case "uconn", "file":
		return kind
	}
	return "raw"
}

// echoBytes is the child of byteRounds: it copies n single bytes from
// its first end to its last.
func echoBytes(kind string, n int) error {
	r, w, done, err := childEnds(childKind(kind), 2)
	if err != nil {
		return err
	}
	defer done()
	var b [1]byte
	for range n {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return err
		}
		if _, err := w.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}

// idleSettle is how long the idle waiter is left to fall asleep before
// its CPU time is counted.
const idleSettle = 100 * time.Millisecond

// idle measures the CPU time a child uses while it sleeps in
// Semaphore.Wait, and while it sleeps in Mutex.Lock on a mutex this
// process holds, per second asleep: on Linux from its threads' schedstat
// and on windows from GetProcessTimes, over b.d once it has fallen
// asleep; elsewhere from its own getrusage over the whole wait.
func (b *bencher) idle() ([]benchRow, error) {
	var rows []benchRow
	for _, run := range []func() (benchRow, error){b.idleSemaphore, b.idleMutex} {
		r, err := run()
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// idleSemaphore measures a child asleep in Semaphore.Wait.
func (b *bencher) idleSemaphore() (benchRow, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return benchRow{}, err
	}
	defer o.Close()
	ping, _, done, err := benchSems(o)
	if err != nil {
		return benchRow{}, err
	}
	defer done()
	return b.idleRun(o, "semaphore-idle-waiter", "Semaphore.Wait", []string{"idle"}, ping.Post)
}

// idleMutex measures a child asleep in Mutex.Lock on a mutex this
// process holds.
func (b *bencher) idleMutex() (benchRow, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return benchRow{}, err
	}
	defer o.Close()
	mu, done, err := benchMutex(o)
	if err != nil {
		return benchRow{}, err
	}
	defer done()
	if err := mu.Lock(b.ctx); err != nil {
		return benchRow{}, err
	}
	return b.idleRun(o, "mutex-idle-waiter", "Mutex.Lock (the mutex held by this process)", []string{"idle", "mutex"}, mu.Unlock)
}

// idleRun starts the idle child args with o, lets it fall asleep, measures
// its CPU over b.d, wakes it with release and makes the row.
func (b *bencher) idleRun(o *shm.Object, name, what string, args []string, release func() error) (benchRow, error) {
	cmd := b.child(args...)
	if err := shm.Pass(cmd, "bench", o); err != nil {
		return benchRow{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return benchRow{}, err
	}
	if err := cmd.Start(); err != nil {
		return benchRow{}, err
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		reap(cmd)
		return benchRow{}, fmt.Errorf("idle waiter: no ready line (%v)", lines.Err())
	}
	sleep := func(d time.Duration) error {
		select {
		case <-time.After(d):
			return nil
		case <-b.ctx.Done():
			reap(cmd)
			return b.ctx.Err()
		}
	}
	if err := sleep(idleSettle); err != nil {
		return benchRow{}, err
	}
	c0, cerr := processCPU(cmd.Process.Pid)
	start := time.Now()
	if err := sleep(b.d); err != nil {
		return benchRow{}, err
	}
	var c1 time.Duration
	if cerr == nil {
		c1, cerr = processCPU(cmd.Process.Pid)
	}
	asleep := time.Since(start)
	if err := release(); err != nil {
		reap(cmd)
		return benchRow{}, err
	}
	if !lines.Scan() {
		reap(cmd)
		return benchRow{}, fmt.Errorf("idle waiter: no CPU figure (%v)", lines.Err())
	}
	whole, err := strconv.ParseInt(strings.TrimSpace(lines.Text()), 10, 64)
	if err != nil {
		reap(cmd)
		return benchRow{}, fmt.Errorf("idle waiter printed %q", lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		return benchRow{}, fmt.Errorf("idle waiter: %w", err)
	}
	var used, over time.Duration
	var how string
	if cerr == nil {
		used, over = c1-c0, asleep
		how = fmt.Sprintf("over %v once asleep, %s", asleep.Round(time.Millisecond), processCPUHow)
	} else {
		// The wait began about idleSettle before start.
		used, over = time.Duration(whole), asleep+idleSettle
		how = fmt.Sprintf("over the whole %v wait by its %s, spin and wake-up included", over.Round(time.Millisecond), cpuTimeHow)
	}
	perSec := float64(used) / over.Seconds()
	r := measured(name, perSec, "", 0)
	r.Note = fmt.Sprintf("CPU ns per second asleep in %s, whole process, %s: %.3f%% of a CPU", what, how, perSec/1e7)
	return r, nil
}
