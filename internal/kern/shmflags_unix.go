//go:build unix

package kern

import (
	"errors"
	"syscall"
)

// openEachShmflags calls open with each of [OpenShmflags] while it fails
// with EINVAL (the object's flags differ) or ENOTTY (no large pages), and
// returns the first other result, or the last.
func openEachShmflags(open func(shmflags int) (int, error)) (fd int, err error) {
	for _, f := range OpenShmflags {
		fd, err = open(f)
		if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTTY) {
			return fd, err
		}
	}
	return fd, err
}
