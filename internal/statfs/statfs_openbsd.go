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
	bs := uint64(st.F_bsize)
	free := st.F_bavail
	if free < 0 {
		free = 0
	}
	return FS{Type: cString(st.F_fstypename[:]), Size: st.F_blocks * bs, Free: uint64(free) * bs}, nil
}
