//go:build unix

package shm

import "golang.org/x/sys/unix"

func munmap(b []byte) error { return unix.Munmap(b) }

func msync(b []byte) error { return unix.Msync(b, unix.MS_SYNC) }
