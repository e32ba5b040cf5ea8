//go:build unix

package shm

import (
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/shmkit/shm/internal/lock"
)

// RawFD returns the descriptor an Object owns, for tests that inspect it
// (its flags, its mode) without duplicating it. Tests only.
func RawFD(o *Object) int { return o.h.fd }

func init() {
	testEnvHooks = append(testEnvHooks, func() {
		if d := os.Getenv(TestOwnerDirEnv); d != "" {
			lock.SetTokenDirForTest(d)
		}
	})
}

// connWakeWord returns the address and value of r's receiver wake word.
func connWakeWord(r *Ring) (uintptr, uint32) {
	p, ok := r.holdRing()
	if !ok {
		return 0, 0
	}
	defer r.releaseRing()
	w := (*uint32)(unsafe.Add(p, ringOffRxWake))
	return uintptr(unsafe.Pointer(w)), atomic.LoadUint32(w)
}

// ConnReadWake returns the address of the wake word of the ring c reads
// from, and whether its reader said there that it sleeps. Tests only.
func ConnReadWake(c *Conn) (addr uintptr, armed bool) {
	a, v := connWakeWord(c.in.(connRing).r)
	return a, v&1 != 0
}

// MaxSocketPath is the longest path a Unix socket may be bound at here.
// Tests only.
func MaxSocketPath() int { return maxSocketPath }
