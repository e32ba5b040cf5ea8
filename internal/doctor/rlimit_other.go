//go:build !unix

package doctor

// hostRlimitNofile is not available here: the error wraps
// errors.ErrUnsupported and names the OS.
func hostRlimitNofile() (soft, hard uint64, err error) {
	return 0, 0, errUnsupported("getrlimit")
}
