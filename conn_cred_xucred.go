//go:build freebsd || darwin

package shm

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred asks the kernel who is at the other end of uc
// (LOCAL_PEERCRED, and the pid where the system tells it).
func peerCred(uc *net.UnixConn) (Cred, error) {
	cred := Cred{PID: -1}
	err := control(uc, "getsockopt LOCAL_PEERCRED", func(fd int) error {
		x, err := unix.GetsockoptXucred(fd, 0 /* SOL_LOCAL */, unix.LOCAL_PEERCRED)
		if err != nil {
			return err
		}
		cred.UID = int(x.Uid)
		if x.Ngroups > 0 {
			cred.GID = int(x.Groups[0])
		}
		cred.PID = xucredPID(fd, x)
		return nil
	})
	return cred, err
}
