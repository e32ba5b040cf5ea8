//go:build unix

package main

import (
	"context"
	"net"
	"os"
	"os/exec"
)

// sendHow says how Send carries an object here.
const sendHow = "its descriptor as SCM_RIGHTS"

// socketChild starts the child of the socket step with one end of a Unix
// socket pair as its descriptor 3, and returns the other end.
func (d *demo) socketChild(ctx context.Context) (conn *net.UnixConn, cmd *exec.Cmd, skip string, err error) {
	conn, theirs, err := socketPair()
	if err != nil {
		return nil, nil, "", err
	}
	d.say("made a Unix socket pair")
	cmd = d.child(ctx, "socket", d.token)
	cmd.ExtraFiles = []*os.File{theirs}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	return conn, cmd, "", nil
}

// childConn returns the child's end of the socket step's socket: its
// descriptor 3.
func childConn([]string) (*net.UnixConn, error) {
	return unixConn(os.NewFile(3, "socket"))
}
