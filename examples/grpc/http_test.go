package grpcexample

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/shmkit/shm"
)

// TestHTTP serves net/http on shm.Listen and calls it through a transport
// that dials shm.Dial.
func TestHTTP(t *testing.T) {
	path := socketPath(t)
	ln, err := shm.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return shm.Dial(ctx, path) },
	}}
	defer client.CloseIdleConnections()
	for _, size := range []int{0, 10, 5 << 20} {
		body := bytes.Repeat([]byte("h"), size)
		req, _ := http.NewRequestWithContext(testCtx(t), "POST", "http://shm/echo", bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body) || resp.Header.Get("X-Path") != "/echo" {
			t.Fatalf("POST of %d bytes: %d bytes back, %v", size, len(got), err)
		}
	}
}
