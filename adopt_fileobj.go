//go:build openbsd || netbsd || dragonfly || solaris

package shm

import "golang.org/x/sys/unix"

// On these systems shm_open makes plain regular files (NetBSD's memfd
// reports no file type at all), so any regular file is accepted.
var memoryObject = memoryObjectRule{types: []uint32{unix.S_IFREG, 0}}
