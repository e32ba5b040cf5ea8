package shm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Filesystem magic numbers of the Linux filesystems that hold shared
// memory: tmpfs (also memfd and /dev/shm), hugetlbfs and ramfs.
const (
	tmpfsMagic     = 0x01021994
	hugetlbfsMagic = 0x958458f6
	ramfsMagic     = 0x858458f6
)

// On Linux a shared-memory object is a regular file on tmpfs, hugetlbfs or
// ramfs (memfd, O_TMPFILE and /dev/shm files are all tmpfs).
var memoryObject = memoryObjectRule{types: []uint32{unix.S_IFREG}, check: onMemoryFS}

func onMemoryFS(fd int) error {
	var sfs unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &sfs) }); err != nil {
		return fmt.Errorf("fstatfs: %w", err)
	}
	switch uint32(sfs.Type) {
	case tmpfsMagic, hugetlbfsMagic, ramfsMagic:
		return nil
	}
	return fmt.Errorf("%w: a regular file on a disk filesystem (magic %#x), not tmpfs", ErrNotMemory, uint32(sfs.Type))
}
