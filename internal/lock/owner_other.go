//go:build !unix && !windows

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

// NewProbe is not supported on this system, as [NewFileOwner] is not. It
// returns an error wrapping [errors.ErrUnsupported].
func NewProbe(f *os.File) (*Probe, error) {
	return nil, fmt.Errorf("shm: owner probes are not supported on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

// CloseFD closes fd: without classic locks there is nothing to keep.
func CloseFD(fd int) error { return errors.ErrUnsupported }

// CloseFile closes f.
func CloseFile(f *os.File) error { return f.Close() }

// KeepIfLocked keeps nothing: there are no classic locks here.
func KeepIfLocked(*os.File) bool { return false }

// KeptDescriptors returns 0: no descriptor is ever kept here.
func KeptDescriptors() int { return 0 }
