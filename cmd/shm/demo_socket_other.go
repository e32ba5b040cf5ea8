//go:build !unix && !windows

package main

import (
	"context"
	"net"
	"os/exec"
)

// sendHow says how Send carries an object here: it does not.
const sendHow = "unsupported"

// socketChild fails: this system has no Unix sockets.
func (d *demo) socketChild(context.Context) (*net.UnixConn, *exec.Cmd, string, error) {
	return nil, nil, "", errNoUnix("Unix sockets")
}

// childConn fails: this system has no Unix sockets.
func childConn([]string) (*net.UnixConn, error) { return nil, errNoUnix("Unix sockets") }
