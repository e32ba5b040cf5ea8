package osrev

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// NetBSDHost returns the running kernel's kern.osrevision, read once.
var NetBSDHost = sync.OnceValues(func() (uint32, error) {
	rev, err := unix.SysctlUint32("kern.osrevision")
	if err != nil {
		return 0, os.NewSyscallError("sysctl kern.osrevision", err)
	}
	return rev, nil
})
