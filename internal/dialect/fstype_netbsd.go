package dialect

import "golang.org/x/sys/unix"

// hostFSType returns the type name of the file system holding dir, as
// NetBSD's _shm_check_fs reads it.
func hostFSType(dir string) (string, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs(dir, &st); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(st.Fstypename[:]), nil
}
