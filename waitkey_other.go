//go:build !windows

package shm

// waitKey names the lock words at offset off of the mapping for waits
// across processes. Elsewhere the kernel keys a wait by the word's
// address in the shared object, so there is nothing to name
// (waitkey_windows.go is the other kind).
func (m *Mapping) waitKey(int) (string, error) { return "", nil }
