//go:build !freebsd && !darwin

package kern

import (
	"errors"
	"fmt"
	"runtime"
)

// Available reports whether this package reaches a kernel shm_open on the
// current operating system (FreeBSD and darwin).
const Available = false

// errNoKernelShm is returned by every call on operating systems whose
// shm_open is not a kernel call (it is a file in /dev/shm, /tmp, ... or
// missing altogether).
var errNoKernelShm = fmt.Errorf("no kernel POSIX shared memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// ShmOpen is not available on this operating system: it returns -1 and an
// error wrapping [errors.ErrUnsupported] that names runtime.GOOS.
func ShmOpen(name string, flags int, mode uint32) (int, error) {
	return -1, errNoKernelShm
}

// ShmUnlink is not available on this operating system: it returns an error
// wrapping [errors.ErrUnsupported] that names runtime.GOOS.
func ShmUnlink(name string) error {
	return errNoKernelShm
}
