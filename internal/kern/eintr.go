//go:build freebsd || darwin

package kern

import "golang.org/x/sys/unix"

// ignoringEINTR repeats call while it fails with EINTR. The calls it wraps
// either take effect or fail, so repeating after EINTR is safe.
func ignoringEINTR[T any](call func() (T, error)) (T, error) {
	for {
		v, err := call()
		if err != unix.EINTR {
			return v, err
		}
	}
}
