package dialect

import "golang.org/x/sys/unix"

// hostFSType returns the base type name of the file system holding dir.
func hostFSType(dir string) (string, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs(dir, &st); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(st.Basetype))
	for _, c := range st.Basetype {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b), nil
}
