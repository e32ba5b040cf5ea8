package dialect

import "golang.org/x/sys/unix"

// hostFSType returns the type name of the file system holding dir.
func hostFSType(dir string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(st.F_fstypename[:]), nil
}
