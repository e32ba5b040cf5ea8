//go:build !unix

package statfs

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
)

// Stat is not available here: the error wraps errors.ErrUnsupported and
// names the OS.
func Stat(p string) (FS, error) {
	return FS{}, &fs.PathError{Op: "statfs", Path: p, Err: fmt.Errorf("statfs is not supported on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)}
}
