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
// descriptor (on windows, a section handle): anonymous (from [CreateAnon],
// or received with [Receive] or [Inherited]) or named (from [Create] or
// [Open]).
//
// An Object is safe for concurrent use by several goroutines. Closing it
// releases the descriptor; mappings made from it stay valid until they are
// closed themselves, and the memory lives until the last descriptor and the
// last mapping anywhere on the host are gone (and, for a named object on
// Unix, the name is unlinked; a windows section and its name go with the
// last handle and view).
type Object struct {
	h        *handle
	name     string
	strategy string
	readOnly bool
	named    *namedRef    // how to find the name again; nil when anonymous
	granule  atomic.Int64 // alignment of mappings once known (see mapGranule)

	// Whether the Object is closed is the handle's closed bit and nothing
	// else; done only wakes those who wait for it (KeepAlive).
	doneMu sync.Mutex
	done   chan struct{} // nil until doneChan; closedChan once Close has run
}

// doneChan returns a channel that is closed once the object is. It is
// made on first use, so that objects nobody waits on cost no channel.
//
// Close marks the handle closed before it takes doneMu, and doneChan reads
// the mark under doneMu: either doneChan runs first and Close then closes
// the channel it made, or it sees the mark and returns closedChan. No
// waiter can hold a channel that Close missed.
func (o *Object) doneChan() <-chan struct{} {
	o.doneMu.Lock()
	defer o.doneMu.Unlock()
	if o.done == nil {
		if o.h.closed() {
			o.done = closedChan
		} else {
			o.done = make(chan struct{})
		}
	}
	return o.done
}

// wakeClosed closes the channel doneChan gave out, if any, once the handle
// is marked closed. Later calls find closedChan and do nothing.
func (o *Object) wakeClosed() {
	o.doneMu.Lock()
	defer o.doneMu.Unlock()
	if o.done != nil && o.done != closedChan {
		close(o.done)
	}
	o.done = closedChan
}

// closedChan is the done channel of an object closed before anyone asked
// for one.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// File returns a new *os.File for the object: a close-on-exec duplicate
// of its descriptor, as [net.TCPConn.File] returns one. The caller owns
// the file and must close it; closing it does not affect the Object, and
// closing the Object does not affect the file, which keeps the memory
// alive while it is open. Each call makes a new duplicate. After
// [Object.Close] File returns an error satisfying
// errors.Is(err, fs.ErrClosed).
func (o *Object) File() (*os.File, error) { return o.dupFile() }

// Name returns the name the object was created or opened with, or "" for
// an anonymous object.
func (o *Object) Name() string { return o.name }

// Strategy reports how the object was made: for anonymous objects the
// per-OS route of [CreateAnon] ("memfd", "tmpfile" or "random-linux" on
// linux, "shm_open2" or "shm_open" on freebsd, "random-openbsd",
// "random-netbsd", "random-dragonfly", "random-solaris" (illumos too) and
// "random-darwin"; "section" on windows), for named ones "named-" and
// the dialect ("named-linux", "named-openbsd", ..., "named-windows"), and
// "adopted" for a descriptor
// given to [NewObject], [Receive] or [Inherited]. It is meant for
// diagnostics and bug reports.
func (o *Object) Strategy() string { return o.strategy }

// ReadOnly reports whether the object was opened read-only.
func (o *Object) ReadOnly() bool { return o.readOnly }

// Close releases the object's descriptor. It is idempotent and safe to
// call from several goroutines: only the first call does the work, later
// calls return nil. Mappings made from the object stay valid.
func (o *Object) Close() error {
	if o == nil {
		return nil
	}
	// Only the first h.close marks the handle and may close the
	// descriptor (or leave that to the last operation in flight); later
	// and concurrent calls return nil.
	err := o.h.close()
	o.wakeClosed()
	if err != nil {
		return fmt.Errorf("shm: close %s: %w", o.describe(), err)
	}
	return nil
}

// describe names the object in error messages: its name, the file a
// descriptor given to NewObject came as, or "anonymous object".
func (o *Object) describe() string {
	if o.name != "" {
		return printableName(o.name)
	}
	if o.strategy == "adopted" && o.h != nil && o.h.name != "" {
		return "adopted " + printableName(o.h.name)
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
