package lock

import (
	"context"

	"github.com/shmkit/shm/internal/region"
)

// enterGate takes gate's single slot, so that one goroutine per handle
// sleeps in the kernel and the others park here without holding an OS
// thread. It returns ctx.Err() if ctx ends first, and the region's error
// (fs.ErrClosed) if the region closes first; on nil the caller must
// release the slot with <-gate.
func enterGate(ctx context.Context, r *region.Region, gate chan struct{}) error {
	select {
	case gate <- struct{}{}:
		return nil
	default:
	}
	select {
	case gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.Done():
		return r.Err()
	}
}
