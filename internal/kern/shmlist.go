package kern

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
)

// Layout of FreeBSD's struct kinfo_file (sys/sys/user.h), the record type of
// the kern.ipc.posix_shm_list sysctl. The structure has explicit padding and
// the same layout on every FreeBSD architecture (KINFO_FILE_SIZE is 1392 and
// may never change); all Go ports of FreeBSD are little-endian, but fields
// are read in native byte order, as the kernel writes them.
const (
	kfStructSizeOff = 0    // int kf_structsize: size of this record
	kfTypeOff       = 4    // int kf_type
	kfFileSizeOff   = 312  // uint64_t kf_un.kf_file.kf_file_size
	kfFileModeOff   = 328  // uint16_t kf_un.kf_file.kf_file_mode
	kfPathOff       = 368  // char kf_path[PATH_MAX]
	kinfoFileSize   = 1392 // KINFO_FILE_SIZE, the unpacked size
	kfTypeShm       = 8    // KF_TYPE_SHM
)

// ErrMalformed is wrapped by [ParseList] errors for input that is not a
// sequence of packed kinfo_file records.
var ErrMalformed = errors.New("kern: malformed kern.ipc.posix_shm_list data")

// Entry describes one named POSIX shared memory object as listed by the
// FreeBSD kern.ipc.posix_shm_list sysctl.
type Entry struct {
	// Path is the object's name. Inside a jail it is relative to the
	// jail (the jail's root path is stripped), and objects of other jails
	// are not listed.
	Path string
	// Mode is kf_file_mode: S_IFREG (0o100000) | the permission bits.
	Mode uint16
	// Size is the object's size in bytes.
	Size int64
}

// Perm returns the permission bits of e.Mode.
func (e Entry) Perm() fs.FileMode {
	return fs.FileMode(e.Mode) & fs.ModePerm
}

// ParseList decodes the output of FreeBSD's kern.ipc.posix_shm_list sysctl:
// packed struct kinfo_file records, each kf_structsize bytes long (the
// header up to kf_path, the NUL-terminated path, padding to a multiple of
// 8). Zero bytes after the last record are ignored (posixshmcontrol(1) stops
// at a zero kf_structsize). Anything else that does not fit the layout is an
// error wrapping [ErrMalformed].
func ParseList(buf []byte) ([]Entry, error) {
	var entries []Entry
	for off := 0; off < len(buf); {
		rest := buf[off:]
		if allZero(rest) {
			break // zero padding after the last record
		}
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: %d trailing bytes at offset %d", ErrMalformed, len(rest), off)
		}
		size := int64(int32(binary.NativeEndian.Uint32(rest[kfStructSizeOff:])))
		switch {
		case size <= kfPathOff || size > kinfoFileSize:
			return nil, fmt.Errorf("%w: record at offset %d has kf_structsize %d, want %d..%d",
				ErrMalformed, off, size, kfPathOff+1, kinfoFileSize)
		case size%8 != 0:
			return nil, fmt.Errorf("%w: record at offset %d has kf_structsize %d, not a multiple of 8",
				ErrMalformed, off, size)
		case size > int64(len(rest)):
			return nil, fmt.Errorf("%w: record at offset %d has kf_structsize %d but only %d bytes remain",
				ErrMalformed, off, size, len(rest))
		}
		rec := rest[:size]
		if typ := int32(binary.NativeEndian.Uint32(rec[kfTypeOff:])); typ != kfTypeShm {
			return nil, fmt.Errorf("%w: record at offset %d has kf_type %d, want KF_TYPE_SHM (%d)",
				ErrMalformed, off, typ, kfTypeShm)
		}
		path := rec[kfPathOff:]
		n := bytes.IndexByte(path, 0)
		if n < 0 {
			return nil, fmt.Errorf("%w: record at offset %d has an unterminated kf_path", ErrMalformed, off)
		}
		fsize := binary.NativeEndian.Uint64(rec[kfFileSizeOff:])
		if fsize > math.MaxInt64 {
			return nil, fmt.Errorf("%w: record at offset %d has size %d", ErrMalformed, off, fsize)
		}
		entries = append(entries, Entry{
			Path: string(path[:n]),
			Mode: binary.NativeEndian.Uint16(rec[kfFileModeOff:]),
			Size: int64(fsize),
		})
		off += int(size)
	}
	return entries, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
