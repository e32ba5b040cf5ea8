package shm

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred asks the kernel who is at the other end of uc (SO_PEERCRED).
func peerCred(uc *net.UnixConn) (Cred, error) {
	var cred Cred
	err := control(uc, "getsockopt SO_PEERCRED", func(fd int) error {
		u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err == nil {
			cred = Cred{PID: int(u.Pid), UID: int(u.Uid), GID: int(u.Gid)}
		}
		return err
	})
	return cred, err
}
