//go:build darwin || freebsd || dragonfly || openbsd || netbsd

package statfs

// cString returns the text of a NUL-terminated byte array.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
