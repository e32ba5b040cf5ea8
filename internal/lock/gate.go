package lock

import (
	"context"

	"github.com/shmkit/shm/internal/region"
)

// enterGate takes gate's single slot, so that one goroutine per handle
// sleeps in the kernel and the others park here without holding an OS
// thread. The gate is per handle, not per word: handles in other
// processes (and other handles here) sleep on the word beside the gated
// one, and the word's protocol, not the gate, keeps them correct. It returns ctx.Err() if ctx ends first, and the region's error
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
