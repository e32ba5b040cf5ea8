//go:build !unix

package doctor

import (
	"errors"
	"fmt"
	"runtime"
)

// errUnsupported returns an error wrapping errors.ErrUnsupported that
// names the OS.
func errUnsupported(op string) error {
	return fmt.Errorf("%s is not supported on %s/%s: %w", op, runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}
