//go:build !race && (!linux || !amd64)

package fence

import (
	"errors"
	"fmt"
	"runtime"
)

// Supported reports whether this build has a heavy fence: Linux on
// amd64, outside race-detector builds.
const Supported = false

func register() error {
	return fmt.Errorf("no heavy fence on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

func heavy() {}
