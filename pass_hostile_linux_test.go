package shm_test

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// TestReceiveNoObject: a well-formed header announcing no descriptor,
// which Send never writes, is refused (a caller may take objs[0]).
func TestReceiveNoObject(t *testing.T) {
	c, theirs := socketpair(t)
	peer, err := childConnFrom(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := peer.Write([]byte("SHM1\x00")); err != nil {
		t.Fatal(err)
	}
	if objs, err := shm.Receive(c); err == nil {
		t.Fatalf("Receive of a message with no descriptor: %d objects, no error", len(objs))
	}
}

// TestInheritedRefusesOwnDescriptor: a variable naming a descriptor this
// process opened itself (close-on-exec, so not inherited), here an
// Object's, is refused: adopting it would give the descriptor two owners.
func TestInheritedRefusesOwnDescriptor(t *testing.T) {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	t.Setenv(shm.EnvPrefix+"own", strconv.Itoa(shm.RawFD(o)))
	if o2, err := shm.Inherited("own"); err == nil {
		o2.Close()
		t.Fatal("Inherited adopted a descriptor an Object of this process owns")
	} else if !strings.Contains(err.Error(), "close-on-exec") {
		t.Errorf("Inherited of an own descriptor: %v; want it to say why", err)
	}
	if _, err := o.Size(); err != nil {
		t.Errorf("the Object after the refused Inherited: %v", err)
	}
}

// TestPassDropsStaleVariables: starting from this process's environment,
// Pass leaves out the SHM_FD_ variables it inherited (they name its
// descriptors, not the child's: the child's descriptor 3 is the object
// passed now), and any variable naming the number the object gets.
func TestPassDropsStaleVariables(t *testing.T) {
	t.Setenv(shm.EnvPrefix+"outer", "3") // as `shm exec` leaves for its command
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cmd := exec.Command("true")
	if err := shm.Pass(cmd, "inner", o); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, shm.EnvPrefix+"mine=4") // set by the caller, naming the next slot
	if err := shm.Pass(cmd, "second", o); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, shm.EnvPrefix) {
			got = append(got, kv)
		}
	}
	want := []string{shm.EnvPrefix + "inner=3", shm.EnvPrefix + "second=4"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the child's SHM_FD_ variables: %q; want %q", got, want)
	}
}

// TestReceiveBesideSocketOptions: a socket with SO_PASSCRED gets the
// sender's credentials with every message, and one with SO_PASSPIDFD its
// pidfd: Receive takes an honest message there, and closes the pidfd.
func TestReceiveBesideSocketOptions(t *testing.T) {
	for _, opt := range []struct {
		name string
		so   int
	}{{"SO_PASSCRED", unix.SO_PASSCRED}, {"SO_PASSPIDFD", unix.SO_PASSPIDFD}} {
		t.Run(opt.name, func(t *testing.T) {
			c, theirs := socketpair(t)
			peer, err := childConnFrom(theirs)
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			raw, err := c.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var serr error
			raw.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt.so, 1) })
			if serr != nil {
				t.Skipf("%s: %v (the kernel has no such option)", opt.name, serr)
			}
			o, err := shm.CreateAnon(4096)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if err := shm.Send(peer, o); err != nil {
				t.Fatal(err)
			}
			before := countFDs()
			objs, err := shm.Receive(c)
			if err != nil {
				t.Fatalf("an honest message refused: %v", err)
			}
			if len(objs) != 1 {
				t.Fatalf("%d objects, want 1", len(objs))
			}
			objs[0].Close()
			if after := countFDs(); after != before {
				t.Errorf("%d descriptors before Receive, %d after closing what it returned", before, after)
			}
		})
	}
}

// TestReceiveLongPacket: on a sequenced-packet socket a message longer
// than Send's header, whose start looks like one, is refused (the rest
// would be dropped unseen), and its descriptor closed.
func TestReceiveLongPacket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no SOCK_SEQPACKET socketpair: %v", err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "seqpacket")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	c, peer := conn(fds[0]), conn(fds[1])
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	before := countFDs()
	if _, _, err := peer.WriteMsgUnix([]byte("SHM1\x01 and more"), unix.UnixRights(shm.RawFD(o)), nil); err != nil {
		t.Fatal(err)
	}
	objs, err := shm.Receive(c)
	if err == nil {
		for _, x := range objs {
			x.Close()
		}
		t.Fatal("Receive took a packet longer than a shm message")
	}
	if after := countFDs(); after != before {
		t.Errorf("%d descriptors before, %d after the refused packet", before, after)
	}
}
