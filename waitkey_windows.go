package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"unsafe"

	"golang.org/x/sys/windows"
)

// waitKey names the lock words at offset off of the mapping for waits
// across processes: Windows keys no cross-process wait by address, so the
// locks sleep on a named semaphore per word (internal/lock,
// waitq_windows.go) whose name derives from this key, the same in every
// process: the section's name in the object manager (which NtQueryObject
// reports whichever way the section was opened, inherited or received)
// and the word's offset in the section. CreateAnon gives its sections a
// random name for this (anon_windows.go).
func (m *Mapping) waitKey(off int) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return "", m.errClosed("attach")
	}
	if m.owner == nil {
		return "", &fs.PathError{Op: "attach", Path: m.name, Err: errNoDescriptor}
	}
	name, err := objectName(windows.Handle(m.owner.Fd()))
	if err != nil {
		return "", &fs.PathError{Op: "NtQueryObject", Path: m.name, Err: err}
	}
	if name == "" {
		return "", &fs.PathError{Op: "attach", Path: m.name, Err: fmt.Errorf(
			"a Mutex or Semaphore on windows needs a section with a name (every process names its wait objects after it); this one has none (made outside shm?): %w",
			errors.ErrUnsupported)}
	}
	return name + "@" + strconv.FormatInt(m.off+int64(off), 10), nil
}

// objectName returns the name of the object h in the object manager
// (such as \Sessions\1\BaseNamedObjects\x), "" for an unnamed one.
func objectName(h windows.Handle) (string, error) {
	buf := make([]uint64, 512) // OBJECT_NAME_INFORMATION: a UNICODE_STRING and its text; 8-byte aligned
	var n uint32
	r, _, _ := procNtQueryObject.Call(uintptr(h), 1 /* ObjectNameInformation */, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)*8), uintptr(unsafe.Pointer(&n)))
	if r != 0 {
		return "", windows.NTStatus(r)
	}
	us := (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0]))
	if us.Length == 0 || us.Buffer == nil {
		return "", nil
	}
	// The text must lie inside buf: NtQueryObject puts it right after
	// the header.
	start := uintptr(unsafe.Pointer(&buf[0]))
	p := uintptr(unsafe.Pointer(us.Buffer))
	if p < start || p+uintptr(us.Length) > start+uintptr(len(buf)*8) {
		return "", errors.New("NtQueryObject: name outside its buffer")
	}
	return us.String(), nil
}
