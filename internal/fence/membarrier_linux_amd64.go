//go:build !race

package fence

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether this build has a heavy fence: Linux on
// amd64, outside race-detector builds.
const Supported = true

// membarrier(2) commands (linux/membarrier.h).
const (
	cmdPrivateExpedited         = 1 << 3
	cmdRegisterPrivateExpedited = 1 << 4
)

func register() error {
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, cmdRegisterPrivateExpedited, 0, 0); e != 0 {
		return os.NewSyscallError("membarrier register private expedited", e)
	}
	return nil
}

// heavy runs a memory barrier on every CPU that runs a thread of this
// process (a thread not running passed one when it was switched out).
// Once registered the call cannot fail; if the kernel said otherwise,
// heavy waits a millisecond, past any store buffer's drain, which is
// what the fence is for.
func heavy() {
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, cmdPrivateExpedited, 0, 0); e != 0 {
		time.Sleep(time.Millisecond)
	}
}
