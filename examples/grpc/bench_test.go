package grpcexample

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"google.golang.org/grpc"
)

// clients returns a gRPC client per transport, each talking to an Echo
// server in this process: over shm and over a plain Unix socket.
func clients(b *testing.B) map[string]*grpc.ClientConn {
	out := map[string]*grpc.ClientConn{}
	for _, name := range []string{"shm", "unix"} {
		path := socketPath(b)
		var ln net.Listener
		var err error
		if name == "shm" {
			ln, err = shm.Listen(path)
		} else {
			ln, err = net.Listen("unix", path)
		}
		if err != nil {
			b.Fatal(err)
		}
		s := NewServer()
		go s.Serve(ln)
		b.Cleanup(s.Stop)
		dial := DialUnix
		if name == "shm" {
			dial = DialShm
		}
		cc, err := dial(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cc.Close() })
		out[name] = cc
	}
	return out
}

// eachNetwork runs bench over shm and over a Unix socket, with the
// client that newClient gives for the network.
func eachNetwork(b *testing.B, newClient func(*testing.B, string) *grpc.ClientConn, bench func(*testing.B, *grpc.ClientConn)) {
	for _, name := range []string{"shm", "unix"} {
		b.Run(name, func(b *testing.B) { bench(b, newClient(b, name)) })
	}
}

// inProcess returns a client to the Echo server of this process for
// network.
func inProcess(b *testing.B, network string) *grpc.ClientConn { return clients(b)[network] }

// unary plays 1 KiB unary round trips over cc; p50-ns and p99-ns per call.
func unary(b *testing.B, cc *grpc.ClientConn) {
	in := make([]byte, 1<<10)
	var out []byte
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if err := cc.Invoke(b.Context(), MethodEcho, &in, &out); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// stream receives b.N server-streamed 1 MiB messages over cc.
func stream(b *testing.B, cc *grpc.ClientConn) {
	const size = 1 << 20
	s, err := cc.NewStream(b.Context(), StreamDesc, MethodStream)
	if err != nil {
		b.Fatal(err)
	}
	req := Count(b.N, size)
	if err := s.SendMsg(&req); err != nil {
		b.Fatal(err)
	}
	s.CloseSend()
	b.SetBytes(size)
	b.ResetTimer()
	var msg []byte
	n := 0
	for {
		err := s.RecvMsg(&msg)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != b.N {
		b.Fatalf("%d messages, want %d", n, b.N)
	}
}

// BenchmarkGRPCUnary: a 1 KiB unary round trip; p50-ns and p99-ns per
// call.
func BenchmarkGRPCUnary(b *testing.B) { eachNetwork(b, inProcess, unary) }

// BenchmarkGRPCStream: server-streaming 1 MiB messages; one message per
// op.
func BenchmarkGRPCStream(b *testing.B) { eachNetwork(b, inProcess, stream) }

// procClient returns a gRPC client over network ("shm" or "unix") to an
// Echo server in a child process.
func procClient(b *testing.B, network string) *grpc.ClientConn {
	path := socketPath(b)
	startServerOn(b, network, path)
	dial := DialUnix
	if network == "shm" {
		dial = DialShm
	}
	cc, err := dial(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	return cc
}

// BenchmarkGRPCProcUnary: BenchmarkGRPCUnary with the server in another
// process.
func BenchmarkGRPCProcUnary(b *testing.B) { eachNetwork(b, procClient, unary) }

// BenchmarkGRPCProcStream: BenchmarkGRPCStream with the server in another
// process.
func BenchmarkGRPCProcStream(b *testing.B) { eachNetwork(b, procClient, stream) }
