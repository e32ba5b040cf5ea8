package shm_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/shmkit/shm"
)

func init() { registerHelper("ring-large", ringLargeChild) }

// largeSizes are the message sizes of TestRingLargeMessages: around the
// 256 KiB pieces in which the ring copies, past the 1 MiB from which Go's
// memmove on amd64 stores around the caches, and past the 4 MiB above
// which the ring copies a message whole.
var largeSizes = []int{0, 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 1 << 20, 1<<20 + 1, 3<<20 + 5, 4<<20 + 8}

// largeMessage is message i of TestRingLargeMessages: largeSizes[i]
// bytes that differ from one message and one offset to the next.
func largeMessage(i int) []byte {
	b := make([]byte, largeSizes[i])
	for j := range b {
		b[j] = byte(j*13 + j>>12 + i*101)
	}
	return b
}

func largeRingBytes() int { return shm.RingSize(largeSizes[len(largeSizes)-1], 2) }

// ringLargeChild sends every large message into the passed ring, then
// closes its side.
func ringLargeChild(args []string) int {
	o, m, rs, err := childRings("ring", largeRingBytes(), 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer o.Close()
	defer m.Close()
	for i := range largeSizes {
		if err := rs[0].Send(context.Background(), largeMessage(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := rs[0].CloseSend(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRingLargeMessages: a child sends messages of up to 4 MiB and 8
// bytes, most copied into the ring in pieces; each arrives whole, byte
// for byte, whether the receive buffer is reused, too small, or holds
// other bytes.
func TestRingLargeMessages(t *testing.T) {
	o, _, r := newAnonRing(t, largeRingBytes())
	child := startRingChild(t, o, "ring-large")
	ctx := testCtx(t)
	buf := bytes.Repeat([]byte{0xee}, 300<<10)
	for i := range largeSizes {
		in := buf
		if i%2 == 1 {
			in = []byte("stale")
		}
		got, err := r.Receive(ctx, in)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := largeMessage(i); !bytes.Equal(got, want) {
			at := 0
			for at < min(len(got), len(want)) && got[at] == want[at] {
				at++
			}
			t.Fatalf("message %d: %d bytes, want %d; first difference at byte %d", i, len(got), len(want), at)
		}
		buf = got
	}
	if _, err := r.Receive(ctx, buf); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
	child.wait(t)
}
