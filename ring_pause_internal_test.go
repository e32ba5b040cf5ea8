package shm

import (
	"testing"
	"time"
)

// TestFullPause: which senders pause between their looks for room, as
// data: records of at most a retire batch on rings of at least
// ringPauseRing bytes.
func TestFullPause(t *testing.T) {
	batch := uint64(ringRetireBatch)
	for _, c := range []struct {
		n, capacity uint64
		want        time.Duration
	}{
		{0, 1 << 20, ringPauseMin},
		{64, 1 << 20, ringPauseMin},
		{1024, 1 << 20, ringPauseMin},
		{batch - ringRecordHeader, 1 << 20, ringPauseMin}, // a record of exactly one batch
		{batch - ringRecordHeader + 1, 1 << 20, 0},
		{64 << 10, 8 << 20, 0},
		{1 << 20, 8 << 20, 0},
		{64, ringPauseRing, ringPauseMin},
		{64, ringPauseRing - 8, 0},
		{64, 4 << 10, 0},
	} {
		if got := fullPause(c.n, c.capacity); got != c.want {
			t.Errorf("fullPause(%d, %d) = %v, want %v", c.n, c.capacity, got, c.want)
		}
	}
}
