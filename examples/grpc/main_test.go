package grpcexample

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shmkit/shm"
)

// The test binary doubles as the server process of the tests that kill
// one: with helperEnv set, TestMain serves instead of testing.
// With netEnv set to "unix", the server listens on a plain Unix socket
// (the benchmarks' peer).
const (
	helperEnv = "SHM_EXAMPLE_SERVER"
	netEnv    = "SHM_EXAMPLE_NET"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		var ln net.Listener
		var err error
		if os.Getenv(netEnv) == "unix" {
			ln, err = net.Listen("unix", path)
		} else {
			ln, err = shm.Listen(path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ready")
		NewServer().Serve(ln)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startServer runs a gRPC server on shm.Listen(path) in a new process and
// returns once it listens.
func startServer(t testing.TB, path string) *exec.Cmd {
	return startServerOn(t, "shm", path)
}

// startServerOn is startServer listening over network: "shm" or "unix".
func startServerOn(t testing.TB, network, path string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path, netEnv+"="+network)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("server process: %q, %v", line, err)
	}
	return cmd
}

// socketPath returns a short path for a socket in a fresh directory.
func socketPath(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shmgrpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
