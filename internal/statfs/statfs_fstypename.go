//go:build darwin || freebsd || dragonfly

package statfs

import "golang.org/x/sys/unix"

// fromStatfs reads the statfs of darwin, FreeBSD and DragonFly, which
// carry the type's name in Fstypename.
func fromStatfs(st *unix.Statfs_t) FS {
	bs := uint64(st.Bsize)
	free := int64(st.Bavail)
	if free < 0 {
		free = 0
	}
	return FS{Type: cString(st.Fstypename[:]), Size: uint64(st.Blocks) * bs, Free: uint64(free) * bs}
}
