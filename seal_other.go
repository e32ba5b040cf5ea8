//go:build !linux && !freebsd

package shm

import "io/fs"

// Seal adds seals to the object. Only Linux and FreeBSD have seals; here it
// returns an error wrapping errors.ErrUnsupported.
func (o *Object) Seal(Seal) error {
	return &fs.PathError{Op: "seal", Path: o.describe(), Err: errUnsupported("sealing")}
}

// Seals returns the seals the object carries. Only Linux and FreeBSD have
// seals; here it returns an error wrapping errors.ErrUnsupported.
func (o *Object) Seals() (Seal, error) {
	return 0, &fs.PathError{Op: "seal", Path: o.describe(), Err: errUnsupported("sealing")}
}
