//go:build linux || freebsd || darwin || solaris

package shm

import (
	"net"
	"os"
)

// control runs fn on uc's descriptor, naming op in its error.
func control(uc *net.UnixConn, op string, fn func(fd int) error) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return os.NewSyscallError(op, ferr)
}
