package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// createAnon makes a section backed by the paging file, its handle not
// inheritable (strategy "section"), under a random 128-bit name in the
// session's namespace (Local\shm-anon-<32 hex digits>). Nothing opens it
// by that name; it is there because the locks in a mapping name their
// wait objects after the section, in every process that has a handle of
// it (see Mapping.waitKey). The whole size is
// committed (charged to the system's commit limit) here, so a host
// short of memory fails now rather than at first touch.
func createAnon(size int64) (*Object, error) {
	if size == 0 {
		return nil, errEmptySection
	}
	for range 8 {
		var r [16]byte
		_, _ = rand.Read(r[:]) // never fails (crypto/rand)
		name := windows.StringToUTF16Ptr(`Local\shm-anon-` + hex.EncodeToString(r[:]))
		h, err := createSection(size, name)
		if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return newRawObject(h, "", "section"), nil
	}
	return nil, errors.New("CreateFileMapping: no free random name after 8 tries")
}

// errEmptySection is the error for a section of size 0.
var errEmptySection = fmt.Errorf("a Windows section cannot be empty, and its size cannot change once it is made: give the size at creation: %w", errors.ErrUnsupported)

// createSection calls CreateFileMapping for a paging-file section of size
// bytes, named name (nil: unnamed). A name already in use gives
// ERROR_ALREADY_EXISTS, which satisfies errors.Is(err, fs.ErrExist),
// with the existing section's handle closed.
func createSection(size int64, name *uint16) (windows.Handle, error) {
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE,
		uint32(uint64(size)>>32), uint32(size), name)
	if err != nil {
		if h != 0 {
			windows.CloseHandle(h)
		}
		return 0, fmt.Errorf("CreateFileMapping: %w", err)
	}
	return h, nil
}
