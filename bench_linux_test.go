package shm_test

import (
	"testing"
	"time"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// BenchmarkCreateAnon measures CreateAnon+Close against its peer, a raw
// memfd_create+close with the same flags, in the same run. The
// "x-memfd" metric is the ratio of the two (1.0 = as fast as the raw
// system call); BENCHMARKS.md records it.
func BenchmarkCreateAnon(b *testing.B) {
	b.Run("shm", func(b *testing.B) {
		for b.Loop() {
			o, err := shm.CreateAnon(4096)
			if err != nil {
				b.Fatal(err)
			}
			o.Close()
		}
	})
	b.Run("raw-memfd", func(b *testing.B) {
		for b.Loop() {
			rawMemfd(b)
		}
	})
	b.Run("ratio", func(b *testing.B) {
		// Alternate the two in blocks so both see the same machine state.
		var tShm, tRaw time.Duration
		for b.Loop() {
			start := time.Now()
			o, err := shm.CreateAnon(4096)
			if err != nil {
				b.Fatal(err)
			}
			o.Close()
			mid := time.Now()
			rawMemfd(b)
			tShm += mid.Sub(start)
			tRaw += time.Since(mid)
		}
		b.ReportMetric(float64(tShm)/float64(tRaw), "x-memfd")
	})
}

func rawMemfd(b *testing.B) {
	fd, err := unix.MemfdCreate("shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
	if err != nil {
		b.Fatal(err)
	}
	if err := unix.Ftruncate(fd, 4096); err != nil {
		b.Fatal(err)
	}
	unix.Close(fd)
}
