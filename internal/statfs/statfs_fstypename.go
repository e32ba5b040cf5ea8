//go:build darwin || freebsd || dragonfly

package statfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Stat reports the filesystem holding p.
func Stat(p string) (FS, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return FS{}, &fs.PathError{Op: "statfs", Path: p, Err: err}
	}
	bs := uint64(st.Bsize)
	free := int64(st.Bavail)
	if free < 0 {
		free = 0
	}
	return FS{Type: cString(st.Fstypename[:]), Size: uint64(st.Blocks) * bs, Free: uint64(free) * bs}, nil
}
