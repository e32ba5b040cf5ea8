//go:build openbsd || netbsd || dragonfly || solaris

package shm

import "os"

// reserve does nothing where posix_fallocate does not apply to the
// filesystem that holds objects; ftruncate alone sets the size.
func reserve(*os.File, int64) error { return nil }
