//go:build openbsd || netbsd || dragonfly || solaris

package shm

import (
	"runtime"

	"github.com/shmkit/shm/internal/dialect"
)

// createAnonFile makes an anonymous object the way this OS's libc
// shm_open makes a file: a random name created exclusively and unlinked
// at once.
func createAnonFile(size int64) (*Object, error) {
	d, err := dialect.ForOS(runtime.GOOS)
	if err != nil {
		return nil, err
	}
	f, err := d.CreateAnon(0)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		if err := grow(int(f.Fd()), size); err != nil {
			f.Close()
			return nil, err
		}
	}
	return fileObject(f, "random-"+d.OS), nil
}
