package shm

import (
	"errors"
	"fmt"
	"runtime"
)

// ErrNameLost is returned by [Object.Check] and [Object.KeepAlive] when the
// name of a named object no longer leads to that object: it was removed (by
// a tmp cleaner, systemd-logind's RemoveIPC, or a person) or replaced by
// another object under the same name. Processes that already hold the
// object keep working; processes that open the name do not reach it.
var ErrNameLost = errors.New("shm: name no longer leads to this object")

// ErrFault is returned by [Mapping.ReadAt] and [Mapping.WriteAt] when the
// access faulted, and wrapped by the error of a Map with [Populate] whose
// touch of the pages faulted: another process shrank the object below the mapped
// range, or the host had no memory left to give a page of it (a full
// tmpfs, for an object grown by a program that did not reserve its
// memory as [Create], [CreateAnon] and [Object.Truncate] do). The process
// survives; the data was not copied.
var ErrFault = errors.New("shm: memory access fault (the object was shrunk by a peer, or the host ran out of memory for its pages)")

// ErrNotMemory is returned by [NewObject] and [Receive] for a descriptor
// that is not a shared-memory object (a pipe, a socket, a directory, or a
// file on a disk filesystem).
var ErrNotMemory = errors.New("shm: not a shared-memory object")

// errUnsupported returns an error for op that wraps [errors.ErrUnsupported]
// and names the operating system.
func errUnsupported(op string) error {
	return fmt.Errorf("shm: %s is not supported on %s/%s: %w", op, runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}
