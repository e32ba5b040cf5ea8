package dialect

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// hostFSType returns the type of the file system holding dir: "tmpfs",
// "ramfs", or the magic number in hex.
func hostFSType(dir string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "", err
	}
	switch uint64(st.Type) {
	case unix.TMPFS_MAGIC:
		return "tmpfs", nil
	case unix.RAMFS_MAGIC:
		return "ramfs", nil
	}
	return fmt.Sprintf("file system %#x", uint64(st.Type)), nil
}
