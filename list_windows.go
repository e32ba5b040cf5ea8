package shm

import (
	"io/fs"

	"golang.org/x/sys/windows"
)

// list is not supported on Windows: the sections of a session live in
// the object manager's directory \Sessions\<n>\BaseNamedObjects among
// every other named object, and shm does not read that directory (it
// would take the undocumented NtQueryDirectoryObject).
func list() (*Listing, error) {
	return nil, errUnsupported(`listing named sections (they live among all named objects in \Sessions\<n>\BaseNamedObjects, which shm does not read)`)
}

// statNamed opens the section for a query only and reports its name and
// size; a section has no owner uid, gid, mode bits or times to report
// (UID and GID are -1, the rest zero).
func statNamed(name string) (ObjectInfo, error) {
	full, err := sectionName("stat", name)
	if err != nil {
		return ObjectInfo{}, err
	}
	h, err := openFileMapping(sectionQuery|sectionMapRead, windows.StringToUTF16Ptr(full)) // wine 8.0 wants SECTION_MAP_READ to query too
	if err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: printableName(name), Err: err}
	}
	defer windows.CloseHandle(h)
	size, err := sectionSize(h)
	if err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: printableName(name), Err: err}
	}
	return ObjectInfo{Name: name, Kind: KindObject, Path: full, Size: size, UID: -1, GID: -1}, nil
}
