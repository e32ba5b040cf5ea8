package shm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/handoff"
	"golang.org/x/sys/windows"
)

// The hand-off of Send and Receive between real processes. AF_UNIX is
// missing under wine 8.0, so these tests carry the frames over the
// child's standard input and output (the transport Send and Receive use
// is any byte stream); TestWindowsSendUnixConn runs the public API over
// a Unix socket where the system has one.

// stdio is the child's end of the transport: it reads what the parent
// writes to its standard input and answers on its standard output.
var stdio = struct {
	io.Reader
	io.Writer
}{os.Stdin, os.Stdout}

// piped starts cmd with its standard input and output as the parent's
// end of the transport, and its standard error gathered in stderr.
func piped(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer) (rw io.ReadWriter, closeIn func()) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return struct {
		io.Reader
		io.Writer
	}{out, in}, func() { in.Close() }
}

func init() {
	// win-receive receives len(args) objects on its standard input, checks
	// that each starts with its argument, and writes "received" at 100.
	registerHelper("win-receive", func(args []string) int {
		objs, err := shm.ReceiveOver(stdio, uint32(os.Getppid()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if len(objs) != len(args) {
			fmt.Fprintf(os.Stderr, "received %d objects, want %d\n", len(objs), len(args))
			return 1
		}
		for i, o := range objs {
			m, err := o.Map()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if !bytes.HasPrefix(m.Bytes(), []byte(args[i])) {
				fmt.Fprintf(os.Stderr, "object %d: read %q, want %q\n", i, m.Bytes()[:len(args[i])], args[i])
				return 1
			}
			copy(m.Bytes()[100:], "received")
			m.Close()
			o.Close()
		}
		return 0
	})
	// win-hostile-send writes the offer its argument names to its
	// standard output, then prints the receiver's reply on standard
	// error.
	registerHelper("win-hostile-send", func(args []string) int {
		frame, err := hostileOffer(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := os.Stdout.Write(frame); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if strings.HasPrefix(args[0], "truncated") {
			os.Stdout.Close()
		}
		refusal, err := handoff.ReadReply(os.Stdin)
		fmt.Fprintf(os.Stderr, "reply: refusal %q, error %v\n", refusal, err)
		// Every handle to the section, in any process, is counted: the
		// receiver keeps none if only ours is left. Our own duplicate
		// shows that the count works.
		n, err := shm.HandleCount(hostileSection)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		p := windows.CurrentProcess()
		var dup windows.Handle
		if err := windows.DuplicateHandle(p, hostileSection, p, &dup, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		withDup, _ := shm.HandleCount(hostileSection)
		windows.CloseHandle(dup)
		fmt.Fprintf(os.Stderr, "section handles: %d, with a duplicate of ours: %d\n", n, withDup)
		if hostileEvent != 0 {
			n, err := shm.HandleCount(hostileEvent)
			fmt.Fprintf(os.Stderr, "event handles: %d, %v\n", n, err)
		}
		return 0
	})
	// win-no-reply reads an offer and leaves without replying.
	registerHelper("win-no-reply", func([]string) int {
		_, err := handoff.ReadOffer(os.Stdin, shm.MaxSend)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	})
}

// hostileSection is the section of a hostile sender's offer, and
// hostileEvent the event it offers as a section if it does.
var hostileSection, hostileEvent windows.Handle

// hostileOffer returns the frame of a hostile sender's case, made of
// handles of this process.
func hostileOffer(mode string) ([]byte, error) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return nil, err
	}
	hostileSection = shm.SectionHandle(o) // stays open until exit
	section := uint64(hostileSection)
	size, err := o.Size()
	if err != nil {
		return nil, err
	}
	self := uint32(os.Getpid())
	good := handoff.Offer{PID: self, Entries: []handoff.Entry{{Handle: section, Size: size}}}
	frame := func(o handoff.Offer) []byte {
		b, err := handoff.AppendOffer(nil, o)
		if err != nil {
			panic(err)
		}
		return b
	}
	switch mode {
	case "version":
		b := frame(good)
		b[4] = 2
		return b, nil
	case "count":
		// Announces more objects than a message carries.
		b := frame(good)
		b[5] = shm.MaxSend + 1
		return b, nil
	case "pseudo-handle":
		// -1 names the sender's own process to DuplicateHandle.
		b := frame(good)
		for i := 12; i < 20; i++ {
			b[i] = 0xff
		}
		return b, nil
	case "not-a-section":
		ev, err := windows.CreateEvent(nil, 0, 0, nil)
		if err != nil {
			return nil, err
		}
		hostileEvent = ev
		good.Entries = append(good.Entries, handoff.Entry{Handle: uint64(ev), Size: size})
		return frame(good), nil
	case "no-such-handle":
		good.Entries[0].Handle = 0x7ff0
		return frame(good), nil
	case "wrong-size":
		good.Entries[0].Size = size * 2
		return frame(good), nil
	case "not-the-peer":
		// Names the receiver itself, to make it duplicate its own handles.
		good.PID = uint32(os.Getppid())
		return frame(good), nil
	case "truncated-header":
		return frame(good)[:7], nil
	case "truncated-entries":
		good.Entries = append(good.Entries, good.Entries[0])
		b := frame(good)
		return b[:len(b)-3], nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// TestWindowsSendPipe: two objects reach another process whole through
// the hand-off, and what each side writes the other reads.
func TestWindowsSendPipe(t *testing.T) {
	sizes := []int64{4096, 70000}
	tokens := []string{"first object", "second object"}
	var objs []*shm.Object
	var maps []*shm.Mapping
	for i, size := range sizes {
		o, err := shm.CreateAnon(size)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		m, err := o.Map()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		copy(m.Bytes(), tokens[i])
		objs, maps = append(objs, o), append(maps, m)
	}
	var stderr bytes.Buffer
	cmd := helperCommand(t, "win-receive", tokens...)
	rw, closeIn := piped(t, cmd, &stderr)
	serr := shm.SendOver(rw, objs...)
	closeIn()
	werr := cmd.Wait()
	if serr != nil || werr != nil {
		t.Fatalf("Send: %v; child: %v: %s", serr, werr, stderr.Bytes())
	}
	for i, m := range maps {
		if got := string(m.Bytes()[100:108]); got != "received" {
			t.Errorf("object %d: the child's write reads %q", i, got)
		}
	}
}

// TestWindowsReceiveHostile: a sender's bad offers get a clear error on
// both sides, and the receiver keeps no handle of any of them.
func TestWindowsReceiveHostile(t *testing.T) {
	cases := []struct{ mode, want string }{
		{"version", "version 2"},
		{"count", "offer of 65 objects; 1 to 64"},
		{"pseudo-handle", "is not a handle of another process"},
		{"not-a-section", "object 2 of 2"},
		{"no-such-handle", "DuplicateHandle"},
		{"wrong-size", "the offer says"},
		{"not-the-peer", "but the peer is process"},
		{"truncated-header", "7 of its 12 header bytes"},
		{"truncated-entries", "29 of the 32 bytes"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := helperCommand(t, "win-hostile-send", c.mode)
			rw, closeIn := piped(t, cmd, &stderr)
			objs, err := shm.ReceiveOver(rw, uint32(cmd.Process.Pid))
			closeIn()
			werr := cmd.Wait()
			if err == nil || objs != nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Receive: %v, %d objects; want an error containing %q", err, len(objs), c.want)
			}
			if c.mode == "not-a-section" && !errors.Is(err, shm.ErrNotMemory) {
				t.Errorf("Receive: %v, want an error wrapping ErrNotMemory", err)
			}
			t.Logf("receiver: %v", err)
			child := stderr.String()
			t.Logf("sender: %s", strings.TrimSpace(child))
			if werr != nil {
				t.Errorf("sender: %v", werr)
			}
			// The sender is told why, or, if it cut its frame short, may
			// find the pipe closed.
			if !strings.Contains(child, c.want) && !strings.HasPrefix(c.mode, "truncated") {
				t.Errorf("the sender's reply does not say %q", c.want)
			}
			if !strings.Contains(child, "section handles: 1, with a duplicate of ours: 2\n") {
				t.Errorf("the sender's section is not left with its one handle")
			}
			if c.mode == "not-a-section" && !strings.Contains(child, "event handles: 1, <nil>\n") {
				t.Errorf("the sender's event is not left with its one handle")
			}
		})
	}
}

// TestWindowsSendNoReply: a receiver that leaves without replying gives
// the sender an error wrapping io.EOF, and the objects stay usable.
func TestWindowsSendNoReply(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var stderr bytes.Buffer
	cmd := helperCommand(t, "win-no-reply")
	rw, closeIn := piped(t, cmd, &stderr)
	err = shm.SendOver(rw, o)
	closeIn()
	if werr := cmd.Wait(); werr != nil {
		t.Errorf("child: %v: %s", werr, stderr.Bytes())
	}
	if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "without replying") {
		t.Errorf("Send: %v; want an error wrapping io.EOF saying there was no reply", err)
	}
	if _, err := o.Size(); err != nil {
		t.Errorf("the object after a failed Send: %v", err)
	}
	if err := shm.SendOver(rw, nil); err == nil || !strings.Contains(err.Error(), "object 0 is nil") {
		t.Errorf("Send of a nil object: %v", err)
	}
	if err := shm.SendOver(rw); err == nil || !strings.Contains(err.Error(), "1 to 64") {
		t.Errorf("Send of no object: %v", err)
	}
}

func init() {
	// win-dial dials the Unix socket args[0], receives one object and
	// writes "over AF_UNIX" at 100 in it.
	registerHelper("win-dial", func(args []string) int {
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: args[0], Net: "unix"})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer c.Close()
		objs, err := shm.Receive(c)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		m, err := objs[0].Map()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		copy(m.Bytes()[100:], "over AF_UNIX")
		m.Close()
		objs[0].Close()
		return 0
	})
}

// TestWindowsSendUnixConn: the public API over a Unix socket, to another
// process, where the system has AF_UNIX (Windows 10 1803 and later; not
// wine 8.0).
func TestWindowsSendUnixConn(t *testing.T) {
	// Not t.TempDir: wine cannot remove one ("unlinkat: Invalid
	// function"); the listener removes its socket when it closes.
	path := filepath.Join(os.TempDir(), winName(t)[1:]+".sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Skipf("no AF_UNIX sockets here (%v; wine 8.0 has none: WSAEAFNOSUPPORT); the hand-off itself runs between processes in TestWindowsSendPipe and TestWindowsReceiveHostile", err)
	}
	defer ln.Close()
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cmd := helperCommand(t, "win-dial", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := shm.Send(c, o); err != nil {
		t.Errorf("Send: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child %s: %v: %s", strconv.Itoa(cmd.Process.Pid), err, out.Bytes())
	}
	if got := string(m.Bytes()[100:112]); got != "over AF_UNIX" {
		t.Errorf("the child's write reads %q", got)
	}
}
