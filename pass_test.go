//go:build unix

package shm_test

import (
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
	"github.com/shmkit/shm/internal/sockpair"
	"golang.org/x/sys/unix"
)

const (
	fromParent = "hello from parent"
	fromChild  = "hello from child"
)

func init() {
	registerHelper("inherit", helperInherit)
	registerHelper("receive", helperReceive)
	registerHelper("send-raw", helperSendRaw)
}

// checkAndReply checks what the parent wrote at the start of o and writes
// the child's greeting after it.
func checkAndReply(o *shm.Object) error {
	m, err := o.Map()
	if err != nil {
		return err
	}
	defer m.Close()
	got := make([]byte, len(fromParent))
	if _, err := m.ReadAt(got, 0); err != nil {
		return err
	}
	if string(got) != fromParent {
		return fmt.Errorf("child read %q, want %q", got, fromParent)
	}
	_, err = m.WriteAt([]byte(fromChild), 1024)
	return err
}

// helperInherit is the child of TestPassExec: the classic shm_open_anon
// test program, asserting both ways.
func helperInherit(args []string) int {
	o, err := shm.Inherited("region")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer o.Close()
	if _, err := shm.Inherited("region"); err == nil {
		fmt.Fprintln(os.Stderr, "second Inherited succeeded")
		return 1
	}
	if v := os.Getenv(shm.EnvPrefix + "region"); v != "" {
		fmt.Fprintln(os.Stderr, "variable still set after Inherited:", v)
		return 1
	}
	if size, err := o.Size(); err != nil || size != 1<<20 {
		fmt.Fprintln(os.Stderr, "size", size, err)
		return 1
	}
	if err := checkAndReply(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// parentObject makes a 1 MiB object holding the parent's greeting.
func parentObject(t *testing.T) (*shm.Object, *shm.Mapping) {
	t.Helper()
	o, err := shm.CreateAnon(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	copy(m.Bytes(), fromParent)
	return o, m
}

func checkReply(t *testing.T, m *shm.Mapping) {
	t.Helper()
	if got := m.Bytes()[1024 : 1024+len(fromChild)]; string(got) != fromChild {
		t.Errorf("parent read %q, want %q", got, fromChild)
	}
}

func TestPassExec(t *testing.T) {
	o, m := parentObject(t)
	cmd := helperCommand(t, "inherit")
	if err := shm.Pass(cmd, "region", o); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	checkReply(t, m)
}

func TestPassErrors(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	for _, name := range []string{"", "has space", "a-b", "é", strings.Repeat("x", 65)} {
		if err := shm.Pass(cmd, name, o); err == nil {
			t.Errorf("Pass with name %q succeeded", name)
		}
	}
	if err := shm.Pass(nil, "x", o); err == nil {
		t.Error("Pass(nil cmd) succeeded")
	}
	o.Close()
	if err := shm.Pass(cmd, "x", o); err == nil {
		t.Error("Pass of a closed object succeeded")
	}
	if _, err := shm.Inherited("never_passed_here"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Inherited of a name never passed: %v", err)
	}
	t.Setenv(shm.EnvPrefix+"bogus", "notanumber")
	if _, err := shm.Inherited("bogus"); err == nil {
		t.Error("Inherited with a bad number succeeded")
	}
	t.Setenv(shm.EnvPrefix+"bogus", "999")
	if _, err := shm.Inherited("bogus"); err == nil {
		t.Error("Inherited of a closed descriptor succeeded")
	}
}

// socketpair returns a connected pair: our end as *net.UnixConn, and the
// other end as an *os.File to hand to a child.
func socketpair(t *testing.T) (*net.UnixConn, *os.File) {
	t.Helper()
	c, theirs, err := sockpair.Conn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); theirs.Close() })
	// No test may hang on a peer that misbehaves.
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c, theirs
}

// childConn returns the Unix socket a parent handed over as descriptor 3.
func childConn() (*net.UnixConn, error) {
	return childConnFrom(os.NewFile(3, "socket"))
}

// childConnFrom turns a socket file into a *net.UnixConn, closing f.
func childConnFrom(f *os.File) (*net.UnixConn, error) {
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// helperReceive receives objects over the socket, checks and answers on
// each, then reports how many it got.
func helperReceive(args []string) int {
	c, err := childConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	objs, err := shm.Receive(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, o := range objs {
		if err := checkAndReply(o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		o.Close()
	}
	fmt.Fprintf(c, "got %d", len(objs))
	return 0
}

func TestSendReceive(t *testing.T) {
	o1, m1 := parentObject(t)
	o2, m2 := parentObject(t)
	c, theirs := socketpair(t)
	cmd := helperCommand(t, "receive")
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	if err := shm.Send(c, o1, o2); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if string(reply) != "got 2" {
		t.Errorf("child replied %q", reply)
	}
	checkReply(t, m1)
	checkReply(t, m2)
}

func TestSendErrors(t *testing.T) {
	c, _ := socketpair(t)
	if err := shm.Send(c); err == nil {
		t.Error("Send of nothing succeeded")
	}
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	many := make([]*shm.Object, shm.MaxSend+1)
	for i := range many {
		many[i] = o
	}
	if err := shm.Send(c, many...); err == nil {
		t.Error("Send of too many objects succeeded")
	}
	if err := shm.Send(c, o, nil); err == nil {
		t.Error("Send with a nil object succeeded")
	}
	if err := shm.Send(nil, o); err == nil {
		t.Error("Send on a nil connection succeeded")
	}
}

// helperSendRaw plays a misbehaving peer on descriptor 3: args[0] says how.
func helperSendRaw(args []string) int {
	c, err := childConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	switch args[0] {
	case "plain":
		_, err = c.Write([]byte("just some bytes"))
	case "close":
		return 0
	case "pipes":
		// Descriptors that are not shared memory, under a valid header.
		r, w, perr := os.Pipe()
		if perr != nil {
			return 1
		}
		_, _, err = c.WriteMsgUnix([]byte("SHM1\x02"), unix.UnixRights(int(r.Fd()), int(w.Fd())), nil)
	case "miscount":
		o, oerr := shm.CreateAnon(4096)
		if oerr != nil {
			return 1
		}
		_, _, err = c.WriteMsgUnix([]byte("SHM1\x05"), unix.UnixRights(shm.RawFD(o)), nil)
	case "many":
		// More descriptors than one message may carry per shm's rules.
		o, oerr := shm.CreateAnon(4096)
		if oerr != nil {
			return 1
		}
		fds := make([]int, 200)
		for i := range fds {
			fds[i] = shm.RawFD(o)
		}
		_, _, err = c.WriteMsgUnix([]byte{'S', 'H', 'M', '1', 200}, unix.UnixRights(fds...), nil)
	case "bytes-with-fd":
		o, oerr := shm.CreateAnon(4096)
		if oerr != nil {
			return 1
		}
		_, _, err = c.WriteMsgUnix([]byte("hello"), unix.UnixRights(shm.RawFD(o)), nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Wait for the parent to finish reading before closing.
	io.Copy(io.Discard, c)
	return 0
}

func TestReceiveBadPeers(t *testing.T) {
	for _, how := range []string{"plain", "close", "pipes", "miscount", "many", "bytes-with-fd"} {
		t.Run(how, func(t *testing.T) {
			c, theirs := socketpair(t)
			cmd := helperCommand(t, "send-raw", how)
			cmd.ExtraFiles = []*os.File{theirs}
			cmd.Stderr = os.Stderr
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			theirs.Close()
			before := countFDs()
			objs, err := shm.Receive(c)
			after := countFDs()
			c.CloseWrite()
			if werr := cmd.Wait(); werr != nil {
				t.Errorf("peer: %v", werr)
			}
			if err == nil {
				for _, o := range objs {
					o.Close()
				}
				t.Fatalf("Receive from a %q peer succeeded with %d objects", how, len(objs))
			}
			t.Logf("Receive: %v", err)
			if how == "close" && !errors.Is(err, io.EOF) {
				t.Errorf("error %v does not wrap io.EOF", err)
			}
			if how == "pipes" && !errors.Is(err, shm.ErrNotMemory) {
				t.Errorf("error %v does not wrap ErrNotMemory", err)
			}
			if before >= 0 && after != before {
				t.Errorf("descriptors: %d before Receive, %d after: received descriptors leaked", before, after)
			}
		})
	}
}
