package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// The windows pieces of the process-pair rows (bench_procs.go): the one
// peer link there is a pair of Go os.Pipes, whose ends a child inherits
// as handles named in benchFilesEnv; CPU time from GetProcessTimes.
// Windows has no socketpair, and the C peer is POSIX C.

func kernelRelease() string {
	v := windows.RtlGetVersion()
	return fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
}

// semPeers are the peers of semaphore-pingpong besides the C one.
var semPeers = []peerKind{
	{kind: "file", name: "Go os.Pipe pair, 2 processes"},
	{name: "Unix socketpair, 2 processes", why: "windows has no socketpair"},
}

// cPeerWhy is why the C peer is not run here.
const cPeerWhy = "no C peer on windows: cbench.c uses POSIX process-shared sem_t and pthread mutexes"

// uconnWhy says why the net.UnixConn peers are not measured here, from
// the error of a Unix socket listener where the system has none.
var uconnWhy = sync.OnceValue(func() string {
	// Where AF_UNIX works the listener makes the socket file and removes
	// it on Close; where it does not, socket() fails before any file.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("shm-bench-%d-%d.sock", os.Getpid(), time.Now().UnixNano()))
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Sprintf("no net.UnixConn on this system (%v), and windows has no socketpair", err)
	}
	ln.Close()
	return "windows has no socketpair to hand a net.UnixConn to a child, and bench does not connect one by Listen and Dial"
})

// streamPeers are the peers of the ring's stream rows, in order.
func streamPeers() []peerKind {
	return []peerKind{
		{kind: "uconn", name: "Go net.UnixConn stream", why: uconnWhy()},
		{kind: "file", name: "Go os.Pipe"},
	}
}

// pingPeers are the peers of the ring's round-trip rows, in order.
func pingPeers() []peerKind {
	return []peerKind{
		{kind: "uconn", name: "Go net.UnixConn", why: uconnWhy()},
		{kind: "file", name: "Go os.Pipe pair"},
	}
}

// newPeerLink makes the peer link kind between this process and a child,
// both ways (duplex: the child reads its first end and writes its last)
// or from the child to this process only. The one kind here is "file":
// Go os.Pipes (anonymous pipes, read and written with blocking ReadFile
// and WriteFile).
func newPeerLink(kind string, duplex bool) (*peerLink, error) {
	if kind != "file" {
		return nil, fmt.Errorf("peer link %q: not on windows", kind)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	l := &peerLink{child: "file"}
	if !duplex {
		l.mine, l.closer, l.theirs = readOnly{r}, []func() error{r.Close}, []*os.File{w}
		return l, nil
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	l.mine = readWriter{r2, w}
	l.closer, l.theirs = []func() error{r2.Close, w.Close}, []*os.File{r, w2}
	return l, nil
}

// benchFilesEnv carries to a bench child the values of the handles
// passFiles made it inherit, comma-separated, in order.
const benchFilesEnv = "SHM_BENCH_FILES"

// passFiles makes cmd's process inherit files: their handles become
// inheritable and go into AdditionalInheritedHandles (Go passes a child
// only the handles listed there), and benchFilesEnv names them.
func passFiles(cmd *exec.Cmd, files []*os.File) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	var vals []string
	for _, f := range files {
		h := windows.Handle(f.Fd())
		if err := windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT); err != nil {
			return os.NewSyscallError("SetHandleInformation", err)
		}
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
		vals = append(vals, strconv.FormatUint(uint64(h), 10))
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, benchFilesEnv+"="+strings.Join(vals, ","))
	return nil
}

// childFiles returns, in a bench child, the n files passFiles handed it.
func childFiles(n int) ([]*os.File, error) {
	v := os.Getenv(benchFilesEnv)
	vals := strings.Split(v, ",")
	if v == "" || len(vals) != n {
		return nil, fmt.Errorf("%s: %s=%q: want %d handles", benchChildName, benchFilesEnv, v, n)
	}
	os.Unsetenv(benchFilesEnv)
	var fs []*os.File
	seen := map[uint64]*os.File{}
	for _, s := range vals {
		h, err := strconv.ParseUint(s, 10, 64)
		if err != nil || h == 0 {
			return nil, fmt.Errorf("%s: %s: %q is not a handle value", benchChildName, benchFilesEnv, s)
		}
		f := seen[h]
		if f == nil {
			f = os.NewFile(uintptr(h), "inherited")
			seen[h] = f
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// rawEnds: the raw links are Unix pipes and socketpairs.
func rawEnds(*os.File, *os.File) (io.Reader, io.Writer, error) {
	return nil, nil, fmt.Errorf("%s: raw descriptor links: %w", runtime.GOOS, errors.ErrUnsupported)
}

// cpuTime returns the user and system time this process has used.
func cpuTime() (time.Duration, error) {
	return handleCPU(windows.CurrentProcess())
}

// cpuTimeHow names the source of cpuTime in the idle rows' notes.
const cpuTimeHow = "GetProcessTimes"

// processCPUHow names the source of processCPU in the idle rows' notes;
// its figures move by whole clock ticks (about 15.6 ms on Windows, 10 ms
// under wine), so a short run reads 0 or one tick.
const processCPUHow = "its GetProcessTimes, which counts whole clock ticks"

// processCPU returns the user and system time process pid has used so
// far (all its threads).
func processCPU(pid int) (time.Duration, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return 0, os.NewSyscallError("OpenProcess", err)
	}
	defer windows.CloseHandle(h)
	return handleCPU(h)
}

func handleCPU(h windows.Handle) (time.Duration, error) {
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, os.NewSyscallError("GetProcessTimes", err)
	}
	// A Filetime here is a count of 100 ns, not a date.
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration(ticks(kernel)+ticks(user)) * 100, nil
}

// readOnly and readWriter are this process's end of a peer link.
type readOnly struct{ *os.File }

func (readOnly) Write([]byte) (int, error) { return 0, errors.New("a read-only peer link") }

type readWriter struct{ r, w *os.File }

func (rw readWriter) Read(b []byte) (int, error)  { return rw.r.Read(b) }
func (rw readWriter) Write(b []byte) (int, error) { return rw.w.Write(b) }

// connRows: shm.Conn is not built on windows.
func (b *bencher) connRows() ([]benchRow, error) {
	why := "shm.Conn is not supported on " + runtime.GOOS
	var rows []benchRow
	for _, n := range []string{"conn-roundtrip-64B-p50", "conn-roundtrip-64B-p99", "conn-stream-1MiB"} {
		rows = append(rows, benchRow{Name: n, Note: why})
	}
	return rows, nil
}

// connChild: shm.Conn is not built on windows.
func connChild(context.Context, []string) error {
	return fmt.Errorf("%s conn: shm.Conn on %s: %w", benchChildName, runtime.GOOS, errors.ErrUnsupported)
}
