//go:build unix

package shm

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func listenTemp(t *testing.T, cfg *ListenConfig) *Listener {
	t.Helper()
	dir, err := os.MkdirTemp("", "shmacc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := cfg.Listen(filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestAcceptFailsForGood: once accepting has failed for good, every
// Accept returns the error (before, only the first did and the others
// waited until Close); after Close, Accept says closed.
func TestAcceptFailsForGood(t *testing.T) {
	l := listenTemp(t, &ListenConfig{})
	l.ln.Close() // the socket fails under the accept loop
	var first error
	for i := range 3 {
		_, err := l.Accept()
		if err == nil {
			t.Fatalf("Accept %d after the socket failed: no error", i)
		}
		if first == nil {
			first = err
		} else if err.Error() != first.Error() {
			t.Errorf("Accept %d: %v; the first said %v", i, err, first)
		}
	}
	t.Logf("Accept: %v", first)
	if strings.Contains(first.Error(), ".shm") {
		t.Errorf("Accept's error names the temporary socket path, gone since Listen: %v", first)
	}
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestHandshakeCutByCloseNotReported: a handshake under way when Close
// comes is dropped without a call to HandshakeError.
func TestHandshakeCutByCloseNotReported(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	l := listenTemp(t, &ListenConfig{HandshakeError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	c, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The listener is reading the hello, which never comes.
	for deadline := time.Now().Add(time.Minute); len(l.slots) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the handshake never started")
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 0 {
		t.Errorf("HandshakeError called for a handshake Close cut short: %v", reported)
	}
}
