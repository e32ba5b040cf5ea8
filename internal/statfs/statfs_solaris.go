package statfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// Stat reports the filesystem holding p (statvfs(2)); this file
// also builds on illumos.
func Stat(p string) (FS, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs(p, &st); err != nil {
		return FS{}, &fs.PathError{Op: "statvfs", Path: p, Err: err}
	}
	name := make([]byte, 0, len(st.Basetype))
	for _, c := range st.Basetype {
		if c == 0 {
			break
		}
		name = append(name, byte(c))
	}
	bs := st.Frsize
	if bs == 0 {
		bs = st.Bsize
	}
	return FS{Type: string(name), Size: st.Blocks * bs, Free: st.Bavail * bs}, nil
}
