// Package statfs reports the file system that holds a path: its type name
// and its size, with one file per way the systems answer (statfs with a
// type name, statfs with a magic number, statvfs), for the doctor and for
// the dialects that check where their objects live.
package statfs

// FS describes a file system.
type FS struct {
	Type string // "tmpfs", "ffs", ...; on Linux a name for the magic numbers that matter here, else "fs-magic-0x..."
	Size uint64 // bytes; 0 when the file system reports no limit
	Free uint64 // bytes available to unprivileged users
}
