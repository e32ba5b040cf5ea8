package lock

import (
	"strings"
	"testing"
)

// FuzzOwnerRecord: any bytes decode without panicking; what decodes has a
// non-zero process id and creation time and encodes back to the same
// first 16 bytes; a record round-trips.
func FuzzOwnerRecord(f *testing.F) {
	r := encodeOwnerRecord(1234, 5678)
	f.Add(r[:])
	f.Add([]byte{})
	f.Add([]byte("shmO"))
	z := encodeOwnerRecord(0, 0)
	f.Add(z[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, created, ok := decodeOwnerRecord(b)
		if !ok {
			return
		}
		if pid == 0 || created == 0 || len(b) < ownerRecordSize {
			t.Fatalf("decoded %d, %d from %x", pid, created, b)
		}
		if e := encodeOwnerRecord(pid, created); string(e[:]) != string(b[:ownerRecordSize]) {
			t.Fatalf("re-encoded %x, from %x", e, b)
		}
	})
}

// TestObjectNames: the kernel object names stay under their prefixes
// whatever token or key they come from.
func TestObjectNames(t *testing.T) {
	for _, tok := range []uint32{0, 1, tokenMask, ^uint32(0), 0xdeadbeef} {
		n := ownerObjectName(tok)
		if !strings.HasPrefix(n, `Local\shm-owner-`) || len(n) != len(`Local\shm-owner-`)+8 {
			t.Errorf("owner name of %#x: %q", tok, n)
		}
		if c := ownerClosedName(tok); c != n+"-closed" {
			t.Errorf("closed event name of %#x: %q", tok, c)
		}
	}
	for _, key := range []string{"", `\x\..\..`, "\x00", strings.Repeat("k", 1<<16)} {
		n := waitObjectName(key)
		if !strings.HasPrefix(n, `Local\shm-wait-`) || len(n) != len(`Local\shm-wait-`)+16 {
			t.Errorf("wait name of %q: %q", key, n)
		}
	}
}
