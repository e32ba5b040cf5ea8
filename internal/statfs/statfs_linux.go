package statfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fromStatfs reads Linux's statfs: the type is a magic number.
func fromStatfs(st *unix.Statfs_t) FS {
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return FS{Type: linuxFSName(int64(st.Type)), Size: st.Blocks * bs, Free: st.Bavail * bs}
}

// linuxFSName names the statfs magic numbers that matter here.
func linuxFSName(magic int64) string {
	switch uint32(magic) {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.RAMFS_MAGIC:
		return "ramfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	case unix.FUSE_SUPER_MAGIC:
		return "fuse"
	case unix.HUGETLBFS_MAGIC:
		return "hugetlbfs"
	}
	return fmt.Sprintf("fs-magic-%#x", uint32(magic))
}
