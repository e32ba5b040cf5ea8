//go:build unix

package shm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

func init() {
	registerHelper("conn-dial-write", helperConnDialWrite)
	registerHelper("conn-listen-echo", helperConnListenEcho)
	registerHelper("conn-raw-hello", helperConnRawHello)
	registerHelper("conn-fake-listener", helperConnFakeListener)
}

// startHelper starts a helper and waits for the first line it prints,
// which it prints once it is ready.
func startHelper(t *testing.T, name string, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := helperCommand(t, name, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("helper %s: %v", name, err)
	}
	if line != "ready\n" {
		t.Fatalf("helper %s said %q", name, line)
	}
	return cmd, r
}

// helperConnDialWrite dials args[0], writes args[1] bytes, says ready,
// then waits to be killed.
func helperConnDialWrite(args []string) int {
	c, err := shm.Dial(context.Background(), args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var n int
	fmt.Sscan(args[1], &n)
	if _, err := c.Write(bytes.Repeat([]byte("x"), n)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	waitForKill()
	return 0 // not reached: the test kills this process
}

// TestConnPeerKilled: a dialer process is killed (SIGKILL) while the
// listener's side is blocked in Read and in Write. The Read returns what
// was written and then io.EOF, the Write ErrPeerGone, and no descriptor
// or /dev/shm entry is left (TestMain checks /dev/shm).
func TestConnPeerKilled(t *testing.T) {
	path := socketPath(t)
	cfg := &shm.ListenConfig{SendRing: 16 << 10}
	ln, err := cfg.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	before := countFDs()
	cmd, _ := startHelper(t, "conn-dial-write", path, "5000")
	c, err := ln.AcceptShm()
	if err != nil {
		t.Fatal(err)
	}
	if cred, err := c.PeerCred(); err == nil && cred.PID != -1 && cred.PID != cmd.Process.Pid {
		t.Errorf("PeerCred pid %d, want the child's %d", cred.PID, cmd.Process.Pid)
	}
	// Fill the child's ring, which it never reads, so a Write blocks.
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(make([]byte, 1<<20))
		wrote <- err
	}()
	got := make([]byte, 5000)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		read <- err
	}()
	start := time.Now()
	cmd.Process.Kill()
	if err := <-read; err != io.EOF && !errors.Is(err, shm.ErrPeerGone) {
		t.Errorf("blocked Read after the peer's death: %v", err)
	}
	if err := <-wrote; !errors.Is(err, shm.ErrPeerGone) {
		t.Errorf("blocked Write after the peer's death: %v, want ErrPeerGone", err)
	}
	t.Logf("Read and Write returned %v after SIGKILL", time.Since(start))
	if _, err := c.Write([]byte("x")); !errors.Is(err, shm.ErrPeerGone) {
		t.Errorf("Write after the peer's death: %v, want ErrPeerGone", err)
	}
	c.Close()
	cmd.Wait()
	if runtime := countFDs(); before >= 0 && runtime > before {
		t.Errorf("%d descriptors before the connection, %d after", before, runtime)
	}
}

// helperConnListenEcho listens at args[0], says ready, and echoes one
// connection.
func helperConnListenEcho(args []string) int {
	ln, err := shm.Listen(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ln.Close()
	fmt.Println("ready")
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	io.Copy(c, c)
	return 0
}

// TestConnListenerKilled: the listener's process echoes, then is killed
// while the dialer is blocked in Read.
func TestConnListenerKilled(t *testing.T) {
	path := socketPath(t)
	cmd, _ := startHelper(t, "conn-listen-echo", path)
	c, err := shm.Dial(testCtx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("0123456789"), 100_000) // larger than a ring
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo across processes: %v", err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		read <- err
	}()
	cmd.Process.Kill()
	if err := <-read; err != io.EOF {
		t.Errorf("blocked Read after the listener's death: %v, want io.EOF", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, shm.ErrPeerGone) {
		t.Errorf("Write after the listener's death: %v, want ErrPeerGone", err)
	}
}

// header builds a handshake header as the protocol defines it.
func header(version, kind uint16, textLen uint32) []byte {
	b := []byte("SHMCONN\x00")
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint16(b, kind)
	return binary.LittleEndian.AppendUint32(b, textLen)
}

// helperConnRawHello connects to args[0], sends a hello of version
// args[1] and prints what the listener answers.
func helperConnRawHello(args []string) int {
	c, err := net.Dial("unix", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var v uint16
	fmt.Sscan(args[1], &v)
	c.Write(append(header(v, 1, 0), make([]byte, 16)...))
	c.SetDeadline(time.Now().Add(30 * time.Second))
	reply, _ := io.ReadAll(c)
	fmt.Printf("ready\n%q\n", reply)
	return 0
}

// TestConnHandshakeWrongVersion: a process speaking version 99 is refused
// with a reason on both sides, and the listener goes on.
func TestConnHandshakeWrongVersion(t *testing.T) {
	path := socketPath(t)
	hsErr := make(chan error, 1)
	cfg := &shm.ListenConfig{HandshakeError: func(err error) { hsErr <- err }}
	ln, err := cfg.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd, out := startHelper(t, "conn-raw-hello", path, "99")
	reply, _ := out.ReadString('\n')
	cmd.Wait()
	if !strings.Contains(reply, "version 99") {
		t.Errorf("the listener answered version 99 with %s", reply)
	}
	t.Logf("dialer got %s", reply)
	if err := <-hsErr; !errors.Is(err, shm.ErrHandshake) || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("listener: %v", err)
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := shm.Dial(testCtx(t), path)
	if err != nil {
		t.Fatalf("Dial after a refused version: %v", err)
	}
	c.Close()
}

// helperConnFakeListener listens at args[0] and answers a hello with an
// accept and a pipe instead of shared memory (args[1] == "pipe"), or a
// layout that does not fit the object (args[1] == "layout"); it prints
// the dialer's answer.
func helperConnFakeListener(args []string) int {
	ln, err := net.Listen("unix", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ln.Close()
	fmt.Println("ready")
	nc, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c := nc.(*net.UnixConn)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 32)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	acc := header(1, 2, 0)
	size := uint64(2 << 20)
	lay := []uint64{size, 0, 1 << 20, 1 << 20, 1 << 20}
	var fd int
	switch args[1] {
	case "pipe":
		pr, pw, err := os.Pipe()
		if err != nil {
			return 1
		}
		defer pw.Close()
		fd = int(pr.Fd())
	case "layout":
		o, err := shm.CreateAnon(int64(size))
		if err != nil {
			return 1
		}
		fd = shm.RawFD(o)
		lay[4] = 4 << 20 // the second ring runs past the end
	}
	for _, v := range lay {
		acc = binary.LittleEndian.AppendUint64(acc, v)
	}
	c.Write(acc)
	c.WriteMsgUnix([]byte("SHM1\x01"), unix.UnixRights(fd), nil)
	reply, _ := io.ReadAll(c)
	fmt.Printf("%q\n", reply)
	return 0
}

// TestConnHandshakeBadListener: a listener that sends a pipe, or a layout
// that does not fit the object, is refused with a reason on both sides.
func TestConnHandshakeBadListener(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{"pipe", "not a shared-memory object"},
		{"layout", "does not fit"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			path := socketPath(t)
			before := countFDs()
			cmd, out := startHelper(t, "conn-fake-listener", path, tc.kind)
			_, err := shm.Dial(testCtx(t), path)
			if !errors.Is(err, shm.ErrHandshake) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial: %v, want ErrHandshake saying %q", err, tc.want)
			}
			if tc.kind == "pipe" && !errors.Is(err, shm.ErrNotMemory) {
				t.Errorf("Dial: %v, want ErrNotMemory", err)
			}
			reply, _ := out.ReadString('\n')
			cmd.Wait()
			if !strings.Contains(reply, tc.want) {
				t.Errorf("the fake listener heard %s, want a refusal saying %q", reply, tc.want)
			}
			t.Logf("dialer: %v\nlistener heard: %s", err, reply)
			if after := countFDs(); after > before {
				t.Errorf("%d descriptors before, %d after", before, after)
			}
		})
	}
}
