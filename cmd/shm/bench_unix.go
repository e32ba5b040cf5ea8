//go:build linux || freebsd || openbsd || netbsd || dragonfly || darwin || solaris

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/shmkit/shm"
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
// ping-pong benchmarks.
const benchChildName = "__bench-child"

var cmdBenchChild = &command{
	name:   benchChildName,
	hidden: true,
	args:   "MODE ROUNDS",
	help:   "The child side of shm bench; not for use by hand.",
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		pos, err := c.parse(e, c.flags(), args, false)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return fmt.Errorf("%s: want MODE ROUNDS", benchChildName)
		}
		n, err := strconv.Atoi(pos[1])
		if err != nil || n < 1 {
			return fmt.Errorf("%s: bad rounds %q", benchChildName, pos[1])
		}
		switch pos[0] {
		case "sem":
			return semChild(ctx, n)
		case "pipe", "socket":
			return echoChild(n, os.NewFile(3, "in"), os.NewFile(4, "out"))
		}
		return fmt.Errorf("%s: unknown mode %q", benchChildName, pos[0])
	},
}

// semChild answers n+warm rounds on the two semaphores of the inherited
// object: wait on the first, post the second.
func semChild(ctx context.Context, n int) error {
	o, err := shm.Inherited("bench")
	if err != nil {
		return err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return err
	}
	defer m.Close()
	ping, err := m.Semaphore(0)
	if err != nil {
		return err
	}
	pong, err := m.Semaphore(8)
	if err != nil {
		return err
	}
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

// echoChild copies n+warm single bytes from in to out.
func echoChild(n int, in, out *os.File) error {
	var b [1]byte
	for range n + warmRounds {
		if _, err := io.ReadFull(in, b[:]); err != nil {
			return err
		}
		if _, err := out.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}

// warmRounds are played before the clock starts.
const warmRounds = 1000

// pingPong measures round trips between this process and a child for each
// mechanism and compares the shm semaphores with the others.
func (b *bencher) pingPong() ([]benchRow, error) {
	// Estimate the rounds that fill the time from a short run of each.
	rounds := func(f func(int) (float64, error)) (float64, error) {
		per, err := f(2000)
		if err != nil || per <= 0 {
			return per, err
		}
		return f(max(2000, min(int(float64(b.d)/per), 5_000_000)))
	}
	sem, err := rounds(b.semRounds)
	if err != nil {
		return nil, fmt.Errorf("semaphore ping-pong: %w", err)
	}
	pipe, err := rounds(func(n int) (float64, error) { return b.byteRounds("pipe", n) })
	if err != nil {
		return nil, fmt.Errorf("pipe ping-pong: %w", err)
	}
	sock, err := rounds(func(n int) (float64, error) { return b.byteRounds("socket", n) })
	if err != nil {
		return nil, fmt.Errorf("socket ping-pong: %w", err)
	}
	return []benchRow{
		b.cRow("sem", sem, "C glibc sem_t (pshared), 2 processes", int(float64(b.d)/20000)),
		row("semaphore-pingpong", sem, "pipe pair, 2 processes", pipe),
		row("semaphore-pingpong", sem, "Unix socketpair, 2 processes", sock),
	}, nil
}

func (b *bencher) child(mode string, n int) *exec.Cmd {
	cmd := exec.CommandContext(b.ctx, b.exe, benchChildName, mode, strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	return cmd
}

// semRounds plays n timed rounds over two shm semaphores with a child.
func (b *bencher) semRounds(n int) (float64, error) {
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
	ping, err := m.Semaphore(0)
	if err != nil {
		return 0, err
	}
	pong, err := m.Semaphore(8)
	if err != nil {
		return 0, err
	}
	cmd := b.child("sem", n)
	if err := shm.Pass(cmd, "bench", o); err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	var start time.Time
	for i := range n + warmRounds {
		if i == warmRounds {
			start = time.Now()
		}
		if err := ping.Post(); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
		if err := pong.Wait(ctx); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
	}
	el := time.Since(start)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("child: %w", err)
	}
	return float64(el) / float64(n), nil
}

// byteRounds plays n timed rounds of one byte each way with a child over
// a pipe pair or a socketpair.
func (b *bencher) byteRounds(mode string, n int) (float64, error) {
	var mineR, mineW, theirR, theirW *os.File
	switch mode {
	case "pipe":
		r1, w1, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		r2, w2, err := os.Pipe()
		if err != nil {
			r1.Close()
			w1.Close()
			return 0, err
		}
		mineW, theirR, theirW, mineR = w1, r1, w2, r2
	case "socket":
		c, theirs, err := socketPair()
		if err != nil {
			return 0, err
		}
		f, err := c.File()
		c.Close()
		if err != nil {
			theirs.Close()
			return 0, err
		}
		mineR, mineW, theirR, theirW = f, f, theirs, theirs
	default:
		return 0, errors.New("unknown mode " + mode)
	}
	defer func() {
		for _, f := range []*os.File{mineR, mineW, theirR, theirW} {
			f.Close()
		}
	}()
	cmd := b.child(mode, n)
	cmd.ExtraFiles = []*os.File{theirR, theirW}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	theirR.Close()
	theirW.Close()
	var buf [1]byte
	var start time.Time
	for i := range n + warmRounds {
		if i == warmRounds {
			start = time.Now()
		}
		if _, err := mineW.Write(buf[:]); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
		if _, err := io.ReadFull(mineR, buf[:]); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, err
		}
	}
	el := time.Since(start)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("child: %w", err)
	}
	return float64(el) / float64(n), nil
}
