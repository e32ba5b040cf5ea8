//go:build !linux || !amd64 || race

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
	if raceBuild {
		return fmt.Errorf("no heavy fence in a race-detector build: %w", errors.ErrUnsupported)
	}
	return fmt.Errorf("no heavy fence on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

func heavy() {}
