//go:build !windows

package shm

// lockSupport returns nil: the locks work wherever a mapping can be made
// on the other systems (locks_windows.go says why not on Windows).
func lockSupport() error { return nil }
