package lock

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Windows owner. A process's liveness here is its process handle,
// which the kernel signals the moment the process ends; what a waiter
// needs is the holder's process id, and a guard against the id's reuse.
// So each owner makes a named section, Local\shm-owner-<token>, while its
// token is held, and writes in it its process id and creation time
// (owner_record.go). The section lives as long as a handle to it is open:
// the owner's, until Close or the process's end (a waiter reading it
// holds it for a moment only). A token is taken by creating its section:
// ERROR_ALREADY_EXISTS means another live owner of the session has it,
// so tokens are unique among live owners of the session.
//
// A holder counts as dead when its section is gone (it died or closed
// its owner), when its record names a process that has ended, or one
// whose creation time differs (the id was reused). A waiter keeps the
// holder's process handle (SYNCHRONIZE) among the objects it waits on,
// so a holder's death wakes it at once (waitq_windows.go).

var (
	modkernel32          = windows.NewLazySystemDLL("kernel32.dll")
	procOpenFileMappingW = modkernel32.NewProc("OpenFileMappingW")
)

const fileMapRead = 0x0004 // FILE_MAP_READ = SECTION_MAP_READ

// A sectionLocker is the [locker] of a Windows owner.
type sectionLocker struct {
	mu  sync.Mutex
	sec map[uint32]windows.Handle // the owner's token sections
	ev  map[uint32]windows.Handle // and their closed events
}

// NewFileOwner returns an owner of the shared object open as f (a
// section handle; it is not used: the owner's token is the session's),
// with a fresh random token published in its own named section.
// The returned owner must be closed when the object is no longer used.
func NewFileOwner(f *os.File) (*FileOwner, error) {
	if f == nil {
		return nil, errors.New("shm: owner file is nil")
	}
	return newFileOwner(&sectionLocker{sec: map[uint32]windows.Handle{}, ev: map[uint32]windows.Handle{}})
}

// NewProbe returns a probe of the owner tokens of the shared object open
// as f (a section handle, which may be read-only; it is not used: a
// holder's liveness is its token section and its process, the same for
// every object). It takes no token and creates nothing; the probe must
// be closed.
func NewProbe(f *os.File) (*Probe, error) {
	if f == nil {
		return nil, errors.New("shm: probe file is nil")
	}
	return &Probe{lk: &sectionLocker{sec: map[uint32]windows.Handle{}, ev: map[uint32]windows.Handle{}}}, nil
}

func (lk *sectionLocker) mechanism() string { return "section" }

// tryLock creates token t's section and publishes this process in it.
func (lk *sectionLocker) tryLock(t uint32) (bool, error) {
	// The closed event first: a waiter that finds the section finds it.
	// One that exists already (a waiter of an earlier owner of the token
	// still has it open, perhaps set) makes the token taken.
	ev, err := windows.CreateEvent(nil, 1, 0, windows.StringToUTF16Ptr(ownerClosedName(t)))
	if err != nil {
		if ev != 0 {
			windows.CloseHandle(ev)
		}
		if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			return false, nil
		}
		return false, fmt.Errorf("shm: owner event: CreateEvent: %w", err)
	}
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE, 0, ownerRecordSize, windows.StringToUTF16Ptr(ownerObjectName(t)))
	if err != nil {
		windows.CloseHandle(ev)
		if h != 0 {
			windows.CloseHandle(h)
		}
		if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			return false, nil
		}
		return false, fmt.Errorf("shm: owner section: CreateFileMapping: %w", err)
	}
	created, err := processCreated(windows.CurrentProcess())
	if err == nil {
		rec := encodeOwnerRecord(windows.GetCurrentProcessId(), created)
		err = withView(h, windows.FILE_MAP_WRITE, func(b []byte) { copy(b, rec[:]) })
	}
	if err != nil {
		windows.CloseHandle(h)
		windows.CloseHandle(ev)
		return false, fmt.Errorf("shm: owner section: %w", err)
	}
	lk.mu.Lock()
	lk.sec[t], lk.ev[t] = h, ev
	lk.mu.Unlock()
	return true, nil
}

// held reports whether the holder of token t is alive.
func (lk *sectionLocker) held(t uint32) (bool, error) {
	p, err := holderProcess(t)
	if p != 0 {
		windows.CloseHandle(p)
	}
	return p != 0 || err != nil, err
}

func (lk *sectionLocker) unlock(t uint32) error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	h, ok := lk.sec[t]
	if !ok {
		return nil
	}
	ev := lk.ev[t]
	delete(lk.sec, t)
	delete(lk.ev, t)
	// The section goes first, so that a waiter woken by the event finds
	// this owner dead.
	err := windows.CloseHandle(h)
	windows.SetEvent(ev)
	windows.CloseHandle(ev)
	return err
}

func (lk *sectionLocker) close() error { return nil }

// holderClosed returns a handle (SYNCHRONIZE) on the event that the
// owner with token t sets when it closes, or 0 if there is none.
func holderClosed(t uint32) windows.Handle {
	if t == 0 || t > MaxToken {
		return 0
	}
	h, err := windows.OpenEvent(windows.SYNCHRONIZE, false, windows.StringToUTF16Ptr(ownerClosedName(t)))
	if err != nil {
		return 0
	}
	return h
}

// holderProcess returns a handle (SYNCHRONIZE and
// PROCESS_QUERY_LIMITED_INFORMATION) on the live process that holds
// token t, or 0 if the holder is dead. An error means the holder cannot
// be told dead (its process cannot be opened for lack of rights): it
// counts as alive, and the waiter probes it again later.
func holderProcess(t uint32) (windows.Handle, error) {
	if t == 0 || t > MaxToken {
		return 0, nil
	}
	name, err := windows.UTF16PtrFromString(ownerObjectName(t))
	if err != nil {
		return 0, err
	}
	r, _, e := procOpenFileMappingW.Call(fileMapRead, 0, uintptr(unsafe.Pointer(name)))
	if r == 0 {
		if errors.Is(e, windows.ERROR_FILE_NOT_FOUND) {
			return 0, nil // no owner has the token: dead (or closed)
		}
		return 0, fmt.Errorf("shm: owner section: OpenFileMapping: %w", e)
	}
	sec := windows.Handle(r)
	defer windows.CloseHandle(sec)
	var rec [ownerRecordSize]byte
	if err := withView(sec, fileMapRead, func(b []byte) { copy(rec[:], b) }); err != nil {
		return 0, fmt.Errorf("shm: owner section: %w", err)
	}
	pid, created, ok := decodeOwnerRecord(rec[:])
	if !ok {
		// Not a record: made by no owner of shm, or one that died
		// between creating its section and writing it. Nobody holds
		// the token through it.
		return 0, nil
	}
	p, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
			return 0, nil // no such process
		}
		return 0, fmt.Errorf("shm: holder process %d: OpenProcess: %w", pid, err)
	}
	if c, err := processCreated(p); err != nil || c != created {
		windows.CloseHandle(p)
		return 0, nil // another process got the id
	}
	if ev, _ := windows.WaitForSingleObject(p, 0); ev == windows.WAIT_OBJECT_0 {
		windows.CloseHandle(p)
		return 0, nil // ended; its handle keeps the id for a while
	}
	return p, nil
}

// processCreated returns the creation time of process p.
func processCreated(p windows.Handle) (uint64, error) {
	var c, e, k, u windows.Filetime
	if err := windows.GetProcessTimes(p, &c, &e, &k, &u); err != nil {
		return 0, fmt.Errorf("GetProcessTimes: %w", err)
	}
	return uint64(c.HighDateTime)<<32 | uint64(c.LowDateTime), nil
}

// withView maps the record of section h with the given access, calls fn
// with it, and unmaps it.
func withView(h windows.Handle, access uint32, fn func([]byte)) error {
	addr, err := windows.MapViewOfFile(h, access, 0, 0, ownerRecordSize)
	if err != nil {
		return fmt.Errorf("MapViewOfFile: %w", err)
	}
	fn(unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), ownerRecordSize))
	return windows.UnmapViewOfFile(addr)
}

// CloseFD closes the handle fd: Windows has no classic locks to keep.
func CloseFD(fd int) error { return windows.CloseHandle(windows.Handle(fd)) }

// CloseFile closes f.
func CloseFile(f *os.File) error { return f.Close() }

// KeepIfLocked keeps nothing: there are no classic locks here.
func KeepIfLocked(*os.File) bool { return false }

// KeptDescriptors returns 0: no descriptor is ever kept here.
func KeptDescriptors() int { return 0 }
