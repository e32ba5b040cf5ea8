//go:build linux || freebsd || darwin

package shm

import "golang.org/x/sys/unix"

// sizedObject sets the size of fd's new, empty object, reserving its
// memory (see grow), and returns an Object that owns fd. On failure fd is
// closed.
func sizedObject(fd int, name, strategy string, size int64) (*Object, error) {
	if size > 0 {
		if err := grow(fd, size); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return newRawObject(fd, name, strategy), nil
}
