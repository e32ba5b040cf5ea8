package shm

import "golang.org/x/sys/windows"

// SectionHandle returns the object's own section handle. Tests only.
func SectionHandle(o *Object) windows.Handle { return o.h.h }

// WaitKey returns the key that names the lock words at offset off of m
// for waits across processes. Tests only.
func WaitKey(m *Mapping, off int) (string, error) { return m.waitKey(off) }
