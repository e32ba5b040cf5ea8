//go:build !unix && !windows

package shm

import "io/fs"

func list() (*Listing, error) { return nil, errUnsupported("listing named objects") }

func statNamed(name string) (ObjectInfo, error) {
	return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: errUnsupported("stat")}
}
