package statfs

import "golang.org/x/sys/unix"

// fromStatfs reads OpenBSD's statfs, whose fields are named F_*.
func fromStatfs(st *unix.Statfs_t) FS {
	bs := uint64(st.F_bsize)
	free := st.F_bavail
	if free < 0 {
		free = 0
	}
	return FS{Type: cString(st.F_fstypename[:]), Size: st.F_blocks * bs, Free: uint64(free) * bs}
}
