//go:build unix

package shm_test

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// connPeers returns a connected pair over shm and over a plain Unix
// socket, both made through a listener in this process.
func connPeers(b *testing.B) map[string][2]net.Conn {
	b.Helper()
	out := map[string][2]net.Conn{}
	{
		path := benchSocket(b)
		ln, err := shm.Listen(path)
		if err != nil {
			b.Fatal(err)
		}
		acc := make(chan net.Conn, 1)
		go func() { c, _ := ln.Accept(); acc <- c }()
		c, err := shm.Dial(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		s := <-acc
		ln.Close()
		out["shm"] = [2]net.Conn{c, s}
	}
	{
		path := benchSocket(b)
		ln, err := net.Listen("unix", path)
		if err != nil {
			b.Fatal(err)
		}
		acc := make(chan net.Conn, 1)
		go func() { c, _ := ln.Accept(); acc <- c }()
		c, err := net.Dial("unix", path)
		if err != nil {
			b.Fatal(err)
		}
		s := <-acc
		ln.Close()
		out["unix"] = [2]net.Conn{c, s}
	}
	b.Cleanup(func() {
		for _, p := range out {
			p[0].Close()
			p[1].Close()
		}
	})
	return out
}

func benchSocket(b *testing.B) string {
	return b.TempDir() + "/s"
}

// BenchmarkConnPingPong: 64 bytes there and back, one round trip per
// op; p50-ns and p99-ns are per round trip. The two ends are goroutines
// of this process.
func BenchmarkConnPingPong(b *testing.B) {
	for _, name := range []string{"shm", "unix"} {
		b.Run(name, func(b *testing.B) {
			p := connPeers(b)[name]
			c, s := p[0], p[1]
			go func() {
				buf := make([]byte, 64)
				for {
					if _, err := io.ReadFull(s, buf); err != nil {
						return
					}
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			}()
			pingPong(b, c)
		})
	}
}

// pingPong plays b.N 64-byte round trips over c with an echoing peer
// and reports p50-ns and p99-ns per round trip.
func pingPong(b *testing.B, c io.ReadWriter) {
	buf := make([]byte, 64)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkConnStream: one side writes 1 MiB per op, the other reads it
// into a 1 MiB buffer.
func BenchmarkConnStream(b *testing.B) {
	const size = 1 << 20
	for _, name := range []string{"shm", "unix"} {
		b.Run(name, func(b *testing.B) {
			p := connPeers(b)[name]
			c, s := p[0], p[1]
			done := make(chan error, 1)
			b.SetBytes(size)
			b.ResetTimer()
			go func() {
				buf := make([]byte, size)
				total := int64(b.N) * size
				for total > 0 {
					n, err := s.Read(buf)
					if err != nil {
						done <- err
						return
					}
					total -= int64(n)
				}
				done <- nil
			}()
			msg := make([]byte, size)
			for range b.N {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
