//go:build !linux

package region

// FastCalls reports whether calls may skip the hold (see Fast). Only
// Linux replaces a mapping by a placeholder in one step (mremap); here
// every call holds the region.
const FastCalls = false

// Unmap ends mem, the whole mapping that the region lies in, after Close
// has returned: every call holds the region here, so none is left on the
// memory and Unmap calls unmap(mem).
func (r *Region) Unmap(mem []byte, unmap func([]byte) error) error { return unmap(mem) }

// Retired reports false: nothing is retired here.
func Retired(addr uintptr) bool { return false }
