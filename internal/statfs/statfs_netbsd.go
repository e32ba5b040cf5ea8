package statfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Stat reports the filesystem holding p (statvfs1(2)).
func Stat(p string) (FS, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs1(p, &st, unix.ST_WAIT); err != nil {
		return FS{}, &fs.PathError{Op: "statvfs1", Path: p, Err: err}
	}
	// Frsize and Bsize are 32-bit on the 32-bit ports (386, arm) and
	// 64-bit elsewhere; Blocks and Bavail are 64-bit everywhere.
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return FS{Type: cString(st.Fstypename[:]), Size: st.Blocks * bs, Free: st.Bavail * bs}, nil
}
