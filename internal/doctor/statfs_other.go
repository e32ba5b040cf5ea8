//go:build !unix

package doctor

import "io/fs"

// hostStatfs is not available here: the error wraps
// errors.ErrUnsupported and names the OS.
func hostStatfs(p string) (FS, error) {
	return FS{}, &fs.PathError{Op: "statfs", Path: p, Err: errUnsupported("statfs")}
}
