package shm

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// xucredPID returns cr_pid, which FreeBSD 13 and later put in the union
// at the end of struct xucred (x/sys names that field _).
func xucredPID(_ int, x *unix.Xucred) int {
	off := unsafe.Sizeof(*x) - unsafe.Sizeof(uintptr(0))
	pid := *(*int32)(unsafe.Add(unsafe.Pointer(x), off))
	if pid <= 0 {
		return -1
	}
	return int(pid)
}
