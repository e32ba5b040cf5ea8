//go:build unix

package shm_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shmkit/shm"
)

// A server and a client over shared memory: the listener's socket is used
// for the handshake only, every byte after it goes through the rings.
// Any code written for a net.Listener or a net.Conn (net/http, gRPC)
// works over them unchanged.
func ExampleListen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.sock")

	ln, err := shm.Listen(path) // the socket file is 0600, removed by Close
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintf(c, "hello, %s!\n", strings.TrimSpace(line))
	}()

	c, err := shm.Dial(context.Background(), path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	// Check who is at the other end before trusting it (where the system
	// tells; see Conn.PeerCred).
	if cred, err := c.PeerCred(); err == nil && cred.UID != os.Geteuid() {
		fmt.Println("the server runs as another user:", cred.UID)
		return
	}
	fmt.Fprintln(c, "client")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(reply)
	// Output:
	// hello, client!
}
