//go:build unix

package shm

// RawFD returns the descriptor an Object owns, for tests that inspect it
// (its flags, its mode) without duplicating it. Tests only.
func RawFD(o *Object) int { return o.h.fd }
