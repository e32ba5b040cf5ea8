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
		return errors.New("a race-detector build: gates let go with an atomic store")
	}
	return fmt.Errorf("no heavy fence on %s/%s: gates let go with an atomic store: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

func heavy() {}
