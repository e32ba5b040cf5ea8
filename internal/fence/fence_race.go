//go:build race

package fence

import (
	"errors"
	"fmt"
)

// Supported reports whether this build has a heavy fence: Linux on
// amd64, outside race-detector builds. To the race detector a plain
// store to a word that others access atomically is a data race.
const Supported = false

func register() error {
	return fmt.Errorf("no heavy fence in a race-detector build: %w", errors.ErrUnsupported)
}

func heavy() {}
