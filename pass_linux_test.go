package shm_test

import (
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

// TestReceiveTruncated: when a message carries more descriptors than the
// receiver has room for, the kernel truncates the control message
// (MSG_CTRUNC); Receive says so, and closes the descriptors it did get.
func TestReceiveTruncated(t *testing.T) {
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
