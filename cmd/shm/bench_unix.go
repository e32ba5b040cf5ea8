//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/shmkit/shm/internal/sockpair"
	"golang.org/x/sys/unix"
)

// The Unix pieces of the process-pair rows (bench_procs.go): the peer
// links (pipes and socketpairs with blocking system calls, a Go
// net.UnixConn, Go os.Pipes), handing their ends to a child as
// descriptors 3 and on, and CPU time from getrusage.

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// semPeers are the peers of semaphore-pingpong besides the C one.
var semPeers = []peerKind{
	{kind: "pipe", name: "pipe pair, 2 processes"},
	{kind: "socket", name: "Unix socketpair, 2 processes"},
}

// cPeerWhy is why the C peer is not run here: "" (it runs where cc
// builds it).
const cPeerWhy = ""

// streamPeers are the peers of the ring's stream rows, in order.
func streamPeers() []peerKind {
	return []peerKind{
		{kind: "uconn", name: "Go net.UnixConn stream"},
		{kind: "file", name: "Go os.Pipe"},
		{kind: "rawpipe", name: "pipe, blocking read/write"},
		{kind: "rawsocket", name: "Unix socketpair, blocking read/write"},
	}
}

// pingPeers are the peers of the ring's round-trip rows, in order.
func pingPeers() []peerKind {
	return []peerKind{
		{kind: "uconn", name: "Go net.UnixConn"},
		{kind: "pipe", name: "pipe pair, blocking read/write"},
		{kind: "socket", name: "Unix socketpair, blocking read/write"},
	}
}

// newPeerLink makes the peer link kind between this process and a child,
// both ways (duplex: the child reads its first end and writes its last)
// or from the child to this process only: "uconn" a Go net.UnixConn on a
// socketpair, "file" Go os.Pipes, "pipe" or "rawpipe" pipes and "socket"
// or "rawsocket" a socketpair with blocking system calls at both ends.
func newPeerLink(kind string, duplex bool) (*peerLink, error) {
	l := &peerLink{child: childKind(kind)}
	switch kind {
	case "uconn":
		c, t, err := sockpair.Conn()
		if err != nil {
			return nil, err
		}
		l.mine, l.closer, l.theirs = c, []func() error{c.Close}, []*os.File{t}
		if duplex {
			l.theirs = append(l.theirs, t)
		}
	case "file":
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		if !duplex {
			l.mine, l.closer, l.theirs = struct {
				io.Reader
				io.Writer
			}{r, nil}, []func() error{r.Close}, []*os.File{w}
			break
		}
		r2, w2, err := os.Pipe()
		if err != nil {
			r.Close()
			w.Close()
			return nil, err
		}
		l.mine = struct {
			io.Reader
			io.Writer
		}{r2, w}
		l.closer, l.theirs = []func() error{r2.Close, w.Close}, []*os.File{r, w2}
	case "pipe", "rawpipe":
		p1, err := sockpair.Pipe()
		if err != nil {
			return nil, err
		}
		if !duplex {
			l.mine = struct {
				io.Reader
				io.Writer
			}{rawFD(p1[0]), nil}
			l.closer = []func() error{func() error { return unix.Close(p1[0]) }}
			l.theirs = []*os.File{os.NewFile(uintptr(p1[1]), "pipe")}
			break
		}
		p2, err := sockpair.Pipe()
		if err != nil {
			unix.Close(p1[0])
			unix.Close(p1[1])
			return nil, err
		}
		l.mine = struct {
			io.Reader
			io.Writer
		}{rawFD(p2[0]), rawFD(p1[1])}
		l.closer = []func() error{func() error { return unix.Close(p2[0]) }, func() error { return unix.Close(p1[1]) }}
		l.theirs = []*os.File{os.NewFile(uintptr(p1[0]), "pipe"), os.NewFile(uintptr(p2[1]), "pipe")}
	case "socket", "rawsocket":
		fds, err := sockpair.Raw()
		if err != nil {
			return nil, err
		}
		l.mine, l.closer = rawFD(fds[0]), []func() error{func() error { return unix.Close(fds[0]) }}
		t := os.NewFile(uintptr(fds[1]), "socket")
		l.theirs = []*os.File{t}
		if duplex {
			l.theirs = append(l.theirs, t)
		}
	default:
		return nil, fmt.Errorf("unknown peer link %q", kind)
	}
	return l, nil
}

// passFiles hands files to cmd's process as its descriptors 3 and on.
func passFiles(cmd *exec.Cmd, files []*os.File) error {
	cmd.ExtraFiles = files
	return nil
}

// childFiles returns, in a bench child, the n files passFiles handed it:
// its descriptors 3 to 3+n-1.
func childFiles(n int) ([]*os.File, error) {
	fs := make([]*os.File, n)
	for i := range fs {
		fs[i] = os.NewFile(uintptr(3+i), fmt.Sprintf("fd%d", 3+i))
		if fs[i] == nil {
			return nil, fmt.Errorf("%s: no descriptor %d", benchChildName, 3+i)
		}
	}
	return fs, nil
}

// rawEnds reads in and writes out with blocking system calls.
func rawEnds(in, out *os.File) (io.Reader, io.Writer, error) {
	return rawFD(int(in.Fd())), rawFD(int(out.Fd())), nil
}

// cpuTime returns the user and system time this process has used.
func cpuTime() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, os.NewSyscallError("getrusage", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuTimeHow names the source of cpuTime in the idle rows' notes.
const cpuTimeHow = "getrusage"

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

// rawFD reads and writes a descriptor in blocking mode with plain system
// calls: no Go poller in the way.
type rawFD int

func (fd rawFD) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(int(fd), b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, os.NewSyscallError("write", err)
		}
		done += n
	}
	return done, nil
}

func (fd rawFD) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(int(fd), b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
