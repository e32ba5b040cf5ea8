package shm

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred asks the kernel who is at the other end of uc (getpeerucred).
func peerCred(uc *net.UnixConn) (Cred, error) {
	var cred Cred
	err := control(uc, "getpeerucred", func(fd int) error {
		u, err := unix.GetPeerUcred(uintptr(fd))
		if err == nil {
			cred = Cred{PID: u.Getpid(), UID: u.Geteuid(), GID: u.Getegid()}
		}
		return err
	})
	return cred, err
}
