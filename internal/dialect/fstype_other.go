//go:build !unix

package dialect

import (
	"errors"
	"fmt"
	"runtime"
)

// hostFSType cannot tell file system types on this OS.
func hostFSType(dir string) (string, error) {
	return "", fmt.Errorf("dialect: file system type of %s: unknown on %s: %w", dir, runtime.GOOS, errors.ErrUnsupported)
}
