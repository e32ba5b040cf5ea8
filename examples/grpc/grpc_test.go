package grpcexample

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// serveShm runs the Echo service on shm.Listen in this process and
// returns a client connected over shm.Dial.
func serveShm(t testing.TB) *grpc.ClientConn {
	t.Helper()
	path := socketPath(t)
	ln, err := shm.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer()
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	cc, err := DialShm(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestGRPCUnary(t *testing.T) {
	cc := serveShm(t)
	for _, size := range []int{0, 1, 1 << 10, 100 << 10, 3 << 20} {
		in := bytes.Repeat([]byte{7}, size)
		var out []byte
		if err := cc.Invoke(testCtx(t), MethodEcho, &in, &out); err != nil {
			t.Fatalf("Echo of %d bytes: %v", size, err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("Echo of %d bytes came back as %d bytes", size, len(out))
		}
	}
}

func TestGRPCStreams(t *testing.T) {
	cc := serveShm(t)
	// Server-streaming: 20 messages of 1 MiB.
	s, err := cc.NewStream(testCtx(t), StreamDesc, MethodStream)
	if err != nil {
		t.Fatal(err)
	}
	req := Count(20, 1<<20)
	if err := s.SendMsg(&req); err != nil {
		t.Fatal(err)
	}
	s.CloseSend()
	n := 0
	for ; ; n++ {
		var msg []byte
		err := s.RecvMsg(&msg)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) != 1<<20 || msg[0] != byte(n) {
			t.Fatalf("message %d: %d bytes starting %d", n, len(msg), msg[0])
		}
	}
	if n != 20 {
		t.Fatalf("got %d messages, want 20", n)
	}
	// Bidirectional.
	chat, err := cc.NewStream(testCtx(t), ChatDesc, MethodChat)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		out := bytes.Repeat([]byte{byte(i)}, i*100)
		if err := chat.SendMsg(&out); err != nil {
			t.Fatal(err)
		}
		var in []byte
		if err := chat.RecvMsg(&in); err != nil || !bytes.Equal(in, out) {
			t.Fatalf("chat %d: %d bytes, %v", i, len(in), err)
		}
	}
	chat.CloseSend()
	var in []byte
	if err := chat.RecvMsg(&in); err != io.EOF {
		t.Fatalf("chat end: %v", err)
	}
}

func TestGRPCDeadlineAndCancel(t *testing.T) {
	cc := serveShm(t)
	ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
	defer cancel()
	in := []byte("sleep")
	var out []byte
	if err := cc.Invoke(ctx, MethodEcho, &in, &out); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Echo past its deadline: %v, want DeadlineExceeded", err)
	}
	// An endless stream, canceled by the client after a few messages.
	ctx, cancel = context.WithCancel(testCtx(t))
	s, err := cc.NewStream(ctx, StreamDesc, MethodStream)
	if err != nil {
		t.Fatal(err)
	}
	req := Count(0, 64<<10)
	s.SendMsg(&req)
	for range 10 {
		var msg []byte
		if err := s.RecvMsg(&msg); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for {
		var msg []byte
		err := s.RecvMsg(&msg)
		if err == nil {
			continue // messages already in flight
		}
		if status.Code(err) != codes.Canceled {
			t.Errorf("stream after cancel: %v, want Canceled", err)
		}
		break
	}
	// The connection is still good.
	in = []byte("after")
	if err := cc.Invoke(testCtx(t), MethodEcho, &in, &out); err != nil || string(out) != "after" {
		t.Errorf("Echo after a canceled stream: %q, %v", out, err)
	}
}

// TestGRPCServerKilled: the server process dies (SIGKILL) in the middle
// of a stream; the client's stream fails with Unavailable and nothing
// hangs.
func TestGRPCServerKilled(t *testing.T) {
	path := socketPath(t)
	cmd := startServer(t, path)
	cc, err := DialShm(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	s, err := cc.NewStream(testCtx(t), StreamDesc, MethodStream)
	if err != nil {
		t.Fatal(err)
	}
	req := Count(0, 256<<10)
	if err := s.SendMsg(&req); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		var msg []byte
		if err := s.RecvMsg(&msg); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Kill()
	for {
		var msg []byte
		err := s.RecvMsg(&msg)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || status.Code(err) != codes.Unavailable {
			t.Errorf("stream after the server died: %v, want Unavailable", err)
		}
		t.Logf("stream after the server died: %v", err)
		break
	}
	in := []byte("x")
	var out []byte
	ctx, cancel := context.WithTimeout(testCtx(t), time.Second)
	defer cancel()
	if err := cc.Invoke(ctx, MethodEcho, &in, &out); err == nil {
		t.Error("Echo to a dead server succeeded")
	}
}
