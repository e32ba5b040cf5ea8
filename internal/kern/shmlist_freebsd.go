//go:build freebsd

package kern

import (
	"os"

	"golang.org/x/sys/unix"
)

// listMIB is the sysctl that lists named POSIX shm objects (FreeBSD 13+).
const listMIB = "kern.ipc.posix_shm_list"

// ListFreeBSD lists the named POSIX shared memory objects visible to the
// caller: those of its jail, with jail-relative paths. Anonymous objects are
// not listed. Objects the caller cannot open are listed too; owners are not
// (open the object and fstat it for those). Errors from the sysctl are
// *os.SyscallError; a kernel without the sysctl gives ENOENT.
func ListFreeBSD() ([]Entry, error) {
	var (
		buf []byte
		err error
	)
	// The list can grow between the size query and the read inside
	// SysctlRaw, which then fails with ENOMEM; ask again.
	for range 16 {
		buf, err = unix.SysctlRaw(listMIB)
		if err != unix.ENOMEM {
			break
		}
	}
	if err != nil {
		return nil, os.NewSyscallError("sysctl "+listMIB, err)
	}
	return ParseList(buf)
}
