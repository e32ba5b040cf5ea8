package shm_test

import (
	"testing"
	"time"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// BenchmarkCreateAnon measures CreateAnon+Close against its peer, a raw
// memfd_create+ftruncate+close with the same flags and size, in the same
// run. The "x-memfd" metric is the ratio of the two (1.0 = as fast as the
// raw system calls). "x-memfd+fchmod" is the ratio against the same raw
// calls plus the fchmod(0600) that CreateAnon makes because a memfd is
// born 0666: the price of the wrapper alone. BENCHMARKS.md records both.
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
			rawMemfd(b, false)
		}
	})
	b.Run("raw-memfd+fchmod", func(b *testing.B) {
		for b.Loop() {
			rawMemfd(b, true)
		}
	})
	b.Run("ratio", func(b *testing.B) {
		// Alternate the two in blocks so both see the same machine state.
		var tShm, tRaw, tChmod time.Duration
		for b.Loop() {
			t0 := time.Now()
			o, err := shm.CreateAnon(4096)
			if err != nil {
				b.Fatal(err)
			}
			o.Close()
			t1 := time.Now()
			rawMemfd(b, false)
			t2 := time.Now()
			rawMemfd(b, true)
			tShm += t1.Sub(t0)
			tRaw += t2.Sub(t1)
			tChmod += time.Since(t2)
		}
		b.ReportMetric(float64(tShm)/float64(tRaw), "x-memfd")
		b.ReportMetric(float64(tShm)/float64(tChmod), "x-memfd+fchmod")
	})
}

func rawMemfd(b *testing.B, chmod bool) {
	fd, err := unix.MemfdCreate("shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
	if err != nil {
		b.Fatal(err)
	}
	if err := unix.Ftruncate(fd, 4096); err != nil {
		b.Fatal(err)
	}
	if chmod {
		if err := unix.Fchmod(fd, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	unix.Close(fd)
}
