//go:build unix && !linux && !freebsd && !darwin && !solaris

package shm

import "net"

// peerCred: x/sys offers no peer-credential call on this system
// (OpenBSD's SO_PEERCRED, NetBSD's LOCAL_PEEREID and DragonFly's
// LOCAL_PEERCRED are not wrapped there).
func peerCred(*net.UnixConn) (Cred, error) {
	return Cred{PID: -1, UID: -1, GID: -1}, errUnsupported("reading a connection's peer credentials")
}
