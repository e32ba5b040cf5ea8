//go:build openbsd || netbsd || dragonfly || solaris

package shm

import (
	"fmt"
	"os"
	"runtime"

	"github.com/shmkit/shm/internal/dialect"
)

// createAnon makes an anonymous object the way this OS's libc shm_open
// makes a file: a random name created exclusively and unlinked at once.
func createAnon(size int64) (*os.File, string, error) {
	if s := forcedAnon(); s != "" {
		return nil, "", fmt.Errorf("%s=%q: strategies can only be forced on linux", anonEnv, s)
	}
	d, err := dialect.ForOS(runtime.GOOS)
	if err != nil {
		return nil, "", err
	}
	f, err := d.CreateAnon(size)
	return f, "random-" + d.OS, err
}
