//go:build !unix

package lock

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// NewFileOwner is not supported on this system: there are no advisory
// locks to tie a token to a process's life. It returns an error wrapping
// [errors.ErrUnsupported].
func NewFileOwner(f *os.File) (*FileOwner, error) {
	return nil, fmt.Errorf("shm: mutex owners are not supported on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}
