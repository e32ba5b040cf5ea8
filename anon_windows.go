package shm

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// createAnon makes an unnamed section backed by the paging file, its
// handle not inheritable (strategy "section"). The whole size is
// committed (charged to the system's commit limit) here, so a host
// short of memory fails now rather than at first touch.
func createAnon(size int64) (*Object, error) {
	if size == 0 {
		return nil, errEmptySection
	}
	h, err := createSection(size, nil)
	if err != nil {
		return nil, err
	}
	return newRawObject(h, "", "section"), nil
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
