package doctor

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// hostStatfs reports the filesystem holding p (statvfs1(2)).
func hostStatfs(p string) (FS, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs1(p, &st, unix.ST_WAIT); err != nil {
		return FS{}, &fs.PathError{Op: "statvfs1", Path: p, Err: err}
	}
	bs := st.Frsize
	if bs == 0 {
		bs = st.Bsize
	}
	return FS{Type: cString(st.Fstypename[:]), Size: st.Blocks * bs, Free: st.Bavail * bs}, nil
}
