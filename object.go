package shm

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"sync"
	"sync/atomic"
)

// An Object is a shared-memory object held through an open file
// descriptor: anonymous (from [CreateAnon], or received with [Receive] or
// [Inherited]) or named (from [Create] or [Open]).
//
// An Object is safe for concurrent use by several goroutines. Closing it
// releases the descriptor; mappings made from it stay valid until they are
// closed themselves, and the memory lives until the last descriptor and the
// last mapping anywhere on the host are gone (and, for a named object, the
// name is unlinked).
type Object struct {
	f        *os.File
	name     string
	strategy string
	readOnly bool
	named    *namedRef // how to find the name again; nil when anonymous
	closed   atomic.Bool

	doneOnce sync.Once
	done     chan struct{} // closed by Close; see doneChan
}

// doneChan returns a channel that Close closes.
func (o *Object) doneChan() chan struct{} {
	o.doneOnce.Do(func() { o.done = make(chan struct{}) })
	return o.done
}

// File returns the object's descriptor as an *os.File. The file belongs to
// the Object: do not close it, and do not use it after [Object.Close]. To
// keep the descriptor beyond the Object, duplicate it.
func (o *Object) File() *os.File { return o.f }

// Name returns the name the object was created or opened with, or "" for
// an anonymous object.
func (o *Object) Name() string { return o.name }

// Strategy reports how the object was made: for anonymous objects the
// per-OS route ("memfd", "tmpfile", "random-linux", "shm_anon",
// "mkstemp-openbsd", ...), for named ones "named-" and the dialect
// ("named-linux", "named-openbsd", ...), and "adopted" for a descriptor
// given to [NewObject]. It is meant for diagnostics and bug reports.
func (o *Object) Strategy() string { return o.strategy }

// ReadOnly reports whether the object was opened read-only.
func (o *Object) ReadOnly() bool { return o.readOnly }

// Close releases the object's descriptor. It is idempotent and safe to
// call from several goroutines: only the first call does the work, later
// calls return nil. Mappings made from the object stay valid.
func (o *Object) Close() error {
	if o == nil || !o.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(o.doneChan())
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("shm: close %s: %w", o.describe(), err)
	}
	return nil
}

// describe names the object in error messages.
func (o *Object) describe() string {
	if o.name != "" {
		return o.name
	}
	return "anonymous object"
}

// errClosed is the error for an operation on a closed object.
func (o *Object) errClosed(op string) error {
	return &fs.PathError{Op: op, Path: o.describe(), Err: fs.ErrClosed}
}

// Access says whether a mapping may be written.
type Access int

const (
	// ReadWrite maps the memory readable and writable.
	ReadWrite Access = iota
	// ReadOnly maps the memory readable only; writes through the mapping
	// fault, and [Mapping.WriteAt] returns an error.
	ReadOnly
)

func (a Access) String() string {
	switch a {
	case ReadWrite:
		return "read-write"
	case ReadOnly:
		return "read-only"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// checkSize validates an object size: not negative, and small enough that
// its page-rounded length fits this platform's int, so that it can be
// mapped.
func checkSize(size int64) error {
	if size < 0 {
		return fmt.Errorf("negative size %d", size)
	}
	if uint64(size) > uint64(math.MaxInt)-uint64(os.Getpagesize()) {
		return fmt.Errorf("size %d does not fit this platform's address space", size)
	}
	return nil
}
