package shm

import "golang.org/x/sys/windows"

// SectionHandle returns the object's own section handle. Tests only.
func SectionHandle(o *Object) windows.Handle { return o.h.h }
