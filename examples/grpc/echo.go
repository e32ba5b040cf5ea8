// Package grpcexample runs other people's code over shm connections: a
// google.golang.org/grpc server and client (this file's Echo service),
// net/http, and golang.org/x/net/nettest's conformance suite in the tests.
// It is a module of its own so that users of shm never download gRPC.
//
// The service is written by hand, without protoc: its messages are raw
// byte slices carried by a codec that copies them as they are.
package grpcexample

import (
	"context"
	"encoding/binary"
	"errors"
	"net"

	"github.com/shmkit/shm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Raw is a gRPC codec for *[]byte messages.
type Raw struct{}

// Marshal returns a copy of the bytes of a *[]byte (as protobuf copies a
// bytes field: gRPC may read the result after SendMsg returns, while the
// caller reuses its message).
func (Raw) Marshal(v any) ([]byte, error) {
	p, ok := v.(*[]byte)
	if !ok {
		return nil, errors.New("grpcexample: message is not *[]byte")
	}
	return append([]byte(nil), *p...), nil
}

// Unmarshal copies data into a *[]byte.
func (Raw) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return errors.New("grpcexample: message is not *[]byte")
	}
	*p = append((*p)[:0], data...)
	return nil
}

// Name returns "raw".
func (Raw) Name() string { return "raw" }

// The methods of the Echo service.
const (
	MethodEcho   = "/shmexample.Echo/Echo"   // unary: the request comes back; "sleep" waits for the caller to give up
	MethodStream = "/shmexample.Echo/Stream" // server-streaming: Count(n, size) asks for n messages (0: until canceled)
	MethodChat   = "/shmexample.Echo/Chat"   // bidirectional: every message comes back
)

// StreamDesc and ChatDesc describe the streaming methods for NewStream.
var (
	StreamDesc = &grpc.StreamDesc{StreamName: "Stream", ServerStreams: true}
	ChatDesc   = &grpc.StreamDesc{StreamName: "Chat", ServerStreams: true, ClientStreams: true}
)

// Count encodes a Stream request: n messages of size bytes.
func Count(n, size int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(n))
	return binary.LittleEndian.AppendUint64(b, uint64(size))
}

type echoServer struct{}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: "shmexample.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			var in []byte
			if err := dec(&in); err != nil {
				return nil, err
			}
			if string(in) == "sleep" {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return &in, nil
		},
	}},
	Streams: []grpc.StreamDesc{
		{StreamName: "Stream", ServerStreams: true, Handler: func(_ any, s grpc.ServerStream) error {
			var in []byte
			if err := s.RecvMsg(&in); err != nil {
				return err
			}
			if len(in) != 16 {
				return errors.New("grpcexample: Stream wants Count(n, size)")
			}
			n := binary.LittleEndian.Uint64(in)
			msg := make([]byte, binary.LittleEndian.Uint64(in[8:]))
			for i := uint64(0); n == 0 || i < n; i++ {
				if len(msg) > 0 {
					msg[0] = byte(i)
				}
				if err := s.SendMsg(&msg); err != nil {
					return err
				}
			}
			return nil
		}},
		{StreamName: "Chat", ServerStreams: true, ClientStreams: true, Handler: func(_ any, s grpc.ServerStream) error {
			for {
				var in []byte
				if err := s.RecvMsg(&in); err != nil {
					return nil // the client closed its side, or went
				}
				if err := s.SendMsg(&in); err != nil {
					return err
				}
			}
		}},
	},
}

// NewServer returns a gRPC server with the Echo service, using the Raw
// codec, with opts added.
func NewServer(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(append([]grpc.ServerOption{grpc.ForceServerCodec(Raw{})}, opts...)...)
	s.RegisterService(&serviceDesc, echoServer{})
	return s
}

// DialShm returns a gRPC client that connects over shared memory to the
// shm.Listen socket at path.
func DialShm(path string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///shm",
		append([]grpc.DialOption{
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return shm.Dial(ctx, path) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(Raw{})),
		}, opts...)...)
}

// DialUnix returns a gRPC client over a plain Unix socket at path, the
// peer shm is measured against.
func DialUnix(path string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient("unix://"+path,
		append([]grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(Raw{})),
		}, opts...)...)
}
