//go:build !linux && !freebsd && !openbsd && !netbsd && !dragonfly && !darwin

package futex

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

const nativeKind = "poll"

func nativeProbe() error {
	return fmt.Errorf("futex: no cross-process wait/wake on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}

func nativeWait(addr *uint32, val uint32, deadline time.Time) error {
	return pollWait(addr, val, deadline)
}

func nativeWake(addr *uint32, n int) error { return nil }
