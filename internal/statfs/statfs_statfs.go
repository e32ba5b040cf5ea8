//go:build linux || darwin || freebsd || dragonfly || openbsd

package statfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Stat reports the file system holding p (statfs(2)); each system's
// fromStatfs reads its own fields of the result.
func Stat(p string) (FS, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return FS{}, &fs.PathError{Op: "statfs", Path: p, Err: err}
	}
	return fromStatfs(&st), nil
}
