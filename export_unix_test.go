//go:build unix

package shm

import (
	"os"

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
