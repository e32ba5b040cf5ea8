package lock

import (
	"context"
	"time"

	"github.com/shmkit/shm/internal/region"
)

// sliceDeadline returns when a sleep of one slice must end: after the
// slice or at ctx's deadline, whichever comes first; and ctx's deadline.
func sliceDeadline(ctx context.Context, slice time.Duration) (deadline, ctxDeadline time.Time, hasDeadline bool) {
	deadline = time.Now().Add(slice)
	ctxDeadline, hasDeadline = ctx.Deadline()
	if hasDeadline && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	return deadline, ctxDeadline, hasDeadline
}

// afterSleep says whether a waiter must leave after a sleep: the
// region's Close (fs.ErrClosed), or ctx's end (ctx.Err(), or
// context.DeadlineExceeded once ctx's deadline has passed even if ctx has
// not noticed yet).
func afterSleep(ctx context.Context, mem *region.Region, ctxDeadline time.Time, hasDeadline bool) error {
	if err := mem.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if hasDeadline && !time.Now().Before(ctxDeadline) {
		return context.DeadlineExceeded
	}
	return nil
}
