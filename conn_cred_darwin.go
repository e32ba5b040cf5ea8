package shm

import "golang.org/x/sys/unix"

// xucredPID asks for the peer's pid (LOCAL_PEERPID).
func xucredPID(fd int, _ *unix.Xucred) int {
	pid, err := unix.GetsockoptInt(fd, 0 /* SOL_LOCAL */, unix.LOCAL_PEERPID)
	if err != nil || pid <= 0 {
		return -1
	}
	return pid
}
