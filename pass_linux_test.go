package shm_test

import (
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// ctruncReported reports whether recvmsg on this system sets MSG_CTRUNC
// when the control buffer is too small for the descriptors sent. Linux
// does; qemu-user (7.2) drops the flag and leaks the descriptors that did
// not fit, so a test of Receive's truncation handling cannot pass there.
func ctruncReported(t *testing.T) bool {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	nfd := int(null.Fd())
	if err := unix.Sendmsg(fds[0], []byte{1}, unix.UnixRights(nfd, nfd, nfd, nfd), nil, 0); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4)) // room for one
	_, oobn, flags, _, err := unix.Recvmsg(fds[1], buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if got, err := unix.ParseUnixRights(&m); err == nil {
				for _, fd := range got {
					unix.Close(fd)
				}
			}
		}
	}
	return flags&unix.MSG_CTRUNC != 0
}

// TestReceiveTruncated: when a message carries more descriptors than the
// receiver has room for, the kernel truncates the control message
// (MSG_CTRUNC); Receive says so, and closes the descriptors it did get.
func TestReceiveTruncated(t *testing.T) {
	if !ctruncReported(t) {
		t.Skip("recvmsg here does not set MSG_CTRUNC when descriptors do not fit: " +
			"qemu-user drops the flag (and leaks the descriptors), so truncation cannot be detected")
	}
	restore := shm.SetReceiveRoom(1)
	defer restore()
	c, theirs := socketpair(t)
	defer theirs.Close()
	peer, err := childConnFrom(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var objs []*shm.Object
	for range 8 {
		o, err := shm.CreateAnon(4096)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		objs = append(objs, o)
	}
	if err := shm.Send(peer, objs...); err != nil {
		t.Fatal(err)
	}
	before := countFDs()
	got, err := shm.Receive(c)
	if err == nil {
		for _, o := range got {
			o.Close()
		}
		t.Fatal("Receive of 8 descriptors with room for 1 succeeded")
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %q does not say the message was truncated", err)
	}
	if after := countFDs(); after != before {
		t.Errorf("descriptors: %d before, %d after a truncated Receive", before, after)
	}
}
