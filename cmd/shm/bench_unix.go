//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/sockpair"
	"golang.org/x/sys/unix"
)

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// benchChildName is the hidden subcommand that plays the far side of the
// two-process benchmarks.
const benchChildName = "__bench-child"

// warmRounds are played before the clock starts, so that both processes
// are running and the semaphores' spin estimate has settled.
const warmRounds = 200

var cmdBenchChild = &command{
	name:   benchChildName,
	hidden: true,
	args:   "sem|pipe|socket ROUNDS | idle [mutex] | ring ... | stream ... | echo KIND SIZE | bounce N | conn NETWORK PATH MODE SIZE [N]",
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
		case "pipe", "socket":
			return echoChild(n+warmRounds, 3, 4)
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
	if ping, err = m.Semaphore(0); err == nil {
		pong, err = m.Semaphore(8)
	}
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return ping, pong, func() { m.Close() }, nil
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

// echoChild copies n single bytes from descriptor in to descriptor out
// with blocking read and write calls.
func echoChild(n, in, out int) error {
	var b [1]byte
	for range n {
		if err := readByte(in, b[:]); err != nil {
			return err
		}
		if err := writeByte(out, b[:]); err != nil {
			return err
		}
	}
	return nil
}

func readByte(fd int, b []byte) error {
	for {
		n, err := unix.Read(fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return os.NewSyscallError("read", err)
		case n == 0:
			return io.ErrUnexpectedEOF
		}
		return nil
	}
}

func writeByte(fd int, b []byte) error {
	for {
		_, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		return nil
	}
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

// cpuTime returns the user and system time this process has used.
func cpuTime() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, os.NewSyscallError("getrusage", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
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

// pingPong measures round trips between this process and a child over
// two shm semaphores, and over the peers, interleaved.
func (b *bencher) pingPong() ([]benchRow, error) {
	const name = "semaphore-pingpong"
	cs := []contender{
		{n0: 1000, run: b.semRounds},
		{n0: 100, run: func(n int) (time.Duration, error) { return b.byteRounds("pipe", n) }},
		{n0: 100, run: func(n int) (time.Duration, error) { return b.byteRounds("socket", n) }},
	}
	const cName = "C sem_t (pshared), 2 processes"
	c, why := b.cContender("sem", 100)
	if c != nil {
		cs = append(cs, *c)
	}
	per, err := b.interleave(cs...)
	if err != nil {
		return nil, fmt.Errorf("ping-pong: %w", err)
	}
	cRow := measured(name, per[0], cName, 0)
	if c != nil {
		cRow = measured(name, per[0], cName, per[3])
	} else {
		cRow.Note = why
	}
	return []benchRow{
		cRow,
		measured(name, per[0], "pipe pair, 2 processes", per[1]),
		measured(name, per[0], "Unix socketpair, 2 processes", per[2]),
	}, nil
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
// a pipe pair or a socketpair, with blocking read and write calls on
// both sides (no Go poller in the way). A child that stops answering
// cannot hang it (see timedRounds).
func (b *bencher) byteRounds(mode string, n int) (time.Duration, error) {
	var mineR, mineW int
	var theirs []*os.File
	switch mode {
	case "pipe":
		p1, err := sockpair.Pipe()
		if err != nil {
			return 0, err
		}
		p2, err := sockpair.Pipe()
		if err != nil {
			unix.Close(p1[0])
			unix.Close(p1[1])
			return 0, err
		}
		mineW, mineR = p1[1], p2[0]
		theirs = []*os.File{os.NewFile(uintptr(p1[0]), "pipe"), os.NewFile(uintptr(p2[1]), "pipe")}
	case "socket":
		fds, err := sockpair.Raw()
		if err != nil {
			return 0, err
		}
		mineR, mineW = fds[0], fds[0]
		t := os.NewFile(uintptr(fds[1]), "socket")
		theirs = []*os.File{t, t}
	default:
		return 0, errors.New("unknown mode " + mode)
	}
	defer func() {
		unix.Close(mineR)
		if mineW != mineR {
			unix.Close(mineW)
		}
	}()
	cmd := b.child(mode, strconv.Itoa(n))
	cmd.ExtraFiles = theirs
	err := cmd.Start()
	for _, f := range theirs {
		f.Close()
	}
	if err != nil {
		return 0, err
	}
	buf := []byte{0}
	return timedRounds(cmd, mode+" ping-pong", warmRounds, n, func() error {
		if err := writeByte(mineW, buf); err != nil {
			return err
		}
		return readByte(mineR, buf)
	})
}

// idleSettle is how long the idle waiter is left to fall asleep before
// its CPU time is counted.
const idleSettle = 100 * time.Millisecond

// idle measures the CPU time a child uses while it sleeps in
// Semaphore.Wait, and while it sleeps in Mutex.Lock on a mutex this
// process holds, per second asleep: on Linux from its threads' schedstat
// over b.d once it has fallen asleep, elsewhere from its own getrusage
// over the whole wait.
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
		how = fmt.Sprintf("over %v once asleep, all its threads' schedstat", asleep.Round(time.Millisecond))
	} else {
		// The wait began about idleSettle before start.
		used, over = time.Duration(whole), asleep+idleSettle
		how = fmt.Sprintf("over the whole %v wait by its getrusage, spin and wake-up included", over.Round(time.Millisecond))
	}
	perSec := float64(used) / over.Seconds()
	r := measured(name, perSec, "", 0)
	r.Note = fmt.Sprintf("CPU ns per second asleep in %s, whole process, %s: %.3f%% of a CPU", what, how, perSec/1e7)
	return r, nil
}
