//go:build freebsd || darwin

package shm

// flockShared takes no lock where objects are kernel objects (FreeBSD,
// darwin): they are not files, and no cleaner ages them out.
func (o *Object) flockShared() (unlock func(), err error) { return nil, nil }
