package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// sendHow says how Send carries an object here.
const sendHow = "the handle's value; the child duplicated it out of this process"

// socketChild listens on a Unix socket in a new temporary directory (Windows
// has no socketpair), starts the child of the socket step to dial it, and
// returns the accepted connection. Where the system has no AF_UNIX
// sockets (wine 8.0: WSAEAFNOSUPPORT), it returns why, to skip the step.
func (d *demo) socketChild(ctx context.Context) (conn *net.UnixConn, cmd *exec.Cmd, skip string, err error) {
	dir, err := os.MkdirTemp("", "shm-demo-")
	if err != nil {
		return nil, nil, "", err
	}
	// The listener removes its socket on close; then the directory goes.
	defer os.Remove(dir)
	path := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, nil, fmt.Sprintf("this system has no AF_UNIX sockets (%v), which Send and Receive use on windows (Windows 10 1803 and later have them; wine 8.0 does not)", err), nil
	}
	defer ln.Close()
	d.say("listening on the Unix socket %s", path)
	cmd = d.child(ctx, "socket", path, d.token)
	if err := cmd.Start(); err != nil {
		return nil, nil, "", err
	}
	deadline, _ := ctx.Deadline()
	_ = ln.SetDeadline(deadline)
	conn, err = ln.AcceptUnix()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, nil, "", fmt.Errorf("waiting for the child to connect: %w", err)
	}
	return conn, cmd, "", nil
}

// childConn dials the socket step's socket, whose path is args[0].
func childConn(args []string) (*net.UnixConn, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("__demo-child socket: want PATH TOKEN")
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.Dial("unix", args[0])
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}
