package shm

import "golang.org/x/sys/windows"

// touchFD does nothing on Windows: a section has no access or
// modification times, and no cleaner deletes sections (one lives while a
// handle or view of it is open anywhere).
func touchFD(windows.Handle) error { return nil }

// flockShared takes no lock on Windows: there is no cleaner to keep off.
func (o *Object) flockShared() (unlock func(), err error) { return nil, nil }

// checkName reports that the name leads here: while this process holds a
// handle to a named section, the section keeps its name and no other
// section can take it.
func (o *Object) checkName() error { return nil }
