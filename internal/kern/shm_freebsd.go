//go:build freebsd

package kern

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Available reports whether this package reaches a kernel shm_open on the
// current operating system (FreeBSD and darwin).
const Available = true

// System call numbers from sys/kern/syscalls.master. x/sys/unix has
// SYS_SHM_OPEN (482, now freebsd12_shm_open) and SYS_SHM_UNLINK (483) but,
// generated from FreeBSD 12, lacks shm_open2 and shm_rename.
const (
	sysShmOpen2  = 571
	sysShmRename = 572
)

// shmAnon is SHM_ANON, ((char *)1) in sys/sys/mman.h.
const shmAnon = 1

// Strategies reported by [ShmOpenAnon].
const (
	// StrategyShmOpen2 means shm_open2(SHM_ANON) with ShmAllowSealing
	// (FreeBSD 13 and later): the object accepts seals.
	StrategyShmOpen2 = "shm_open2"
	// StrategyShmOpen means the old shm_open(SHM_ANON) system call
	// (FreeBSD 12 and earlier): the object cannot be sealed.
	StrategyShmOpen = "shm_open"
)

// ShmOpen2 is the shm_open2 system call (571, FreeBSD 13 and later):
// shm_open2(path, flags, mode, shmflags, name). An empty path means SHM_ANON,
// an anonymous object; an empty name passes NULL. name is a label the kernel
// keeps for debugging (memfd_create uses "memfd:" + its name). ShmOpen2
// adds nothing to flags: pass O_CLOEXEC yourself. Apart from the access mode
// the kernel accepts only O_CREAT, O_EXCL, O_TRUNC and O_CLOEXEC (so
// O_NOFOLLOW gives EINVAL), and shmflags only [ShmAllowSealing],
// [ShmGrowOnWrite] and SHM_LARGEPAGE. A kernel without shm_open2 gives ENOSYS
// (the Go runtime ignores the SIGSYS that comes with it on FreeBSD).
func ShmOpen2(path string, flags int, mode uint32, shmflags int, name string) (fd int, err error) {
	pathPtr := uintptr(shmAnon)
	var pathBytes *byte
	if path != "" {
		if pathBytes, err = unix.BytePtrFromString(path); err != nil {
			return -1, err
		}
		pathPtr = uintptr(unsafe.Pointer(pathBytes))
	}
	var nameBytes *byte
	if name != "" {
		if nameBytes, err = unix.BytePtrFromString(name); err != nil {
			return -1, err
		}
	}
	fd, err = ignoringEINTR(func() (int, error) {
		r, _, e := unix.Syscall6(sysShmOpen2, pathPtr, uintptr(flags), uintptr(mode),
			uintptr(shmflags), uintptr(unsafe.Pointer(nameBytes)), 0)
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	})
	runtime.KeepAlive(pathBytes) // pathPtr was converted before the call
	return fd, err
}

// ShmOpenAnon creates an anonymous, read-write, close-on-exec object. It
// tries shm_open2(SHM_ANON, O_RDWR|O_CLOEXEC, 0600, ShmAllowSealing) and, on
// a kernel without shm_open2 (ENOSYS), the old shm_open(SHM_ANON) followed by
// FD_CLOEXEC. strategy is [StrategyShmOpen2] or [StrategyShmOpen]; only the
// first gives an object that accepts seals.
func ShmOpenAnon() (fd int, strategy string, err error) {
	fd, err = ShmOpen2("", unix.O_RDWR|unix.O_CLOEXEC, 0o600, ShmAllowSealing, "")
	if err != unix.ENOSYS {
		return fd, StrategyShmOpen2, err
	}
	fd, err = shmOpenLegacy(shmAnon, unix.O_RDWR, 0o600)
	return fd, StrategyShmOpen, err
}

// ShmOpen opens or creates the named object like libc's shm_open, with
// shm_open2(path, flags|O_CLOEXEC, mode, shmflags, NULL), or the old
// shm_open system call (482) when the kernel lacks shm_open2. Unlike
// libc it never seals an existing object: shmflags are tried in the order
// of [OpenShmflags], so that the kernel adds no F_SEAL_SEAL. path must
// start with '/' (else EINVAL); further slashes are not special. The name
// lives in the jail's namespace, not in the filesystem.
func ShmOpen(path string, flags int, mode uint32) (int, error) {
	if path == "" {
		// An empty path would mean SHM_ANON to ShmOpen2.
		return -1, unix.EINVAL
	}
	fd, err := openEachShmflags(func(shmflags int) (int, error) {
		return ShmOpen2(path, flags|unix.O_CLOEXEC, mode, shmflags, "")
	})
	if err != unix.ENOSYS {
		return fd, err
	}
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	fd, err = shmOpenLegacy(uintptr(unsafe.Pointer(p)), flags&^unix.O_CLOEXEC, mode)
	runtime.KeepAlive(p) // converted to uintptr before the call
	return fd, err
}

// shmOpenLegacy calls the pre-FreeBSD-13 shm_open system call (482). That
// kernel sets close-on-exec itself; FD_CLOEXEC is set again under
// syscall.ForkLock so the descriptor cannot leak into a concurrent exec on
// a kernel that did not. path is a *byte or shmAnon.
func shmOpenLegacy(path uintptr, flags int, mode uint32) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := ignoringEINTR(func() (int, error) {
		r, _, e := unix.Syscall(unix.SYS_SHM_OPEN, path, uintptr(flags), uintptr(mode))
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	})
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}

// ShmUnlink removes the name of an object (shm_unlink, 483). The object
// lives on until its last descriptor and mapping go away.
func ShmUnlink(path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	_, err = ignoringEINTR(func() (struct{}, error) {
		_, _, e := unix.Syscall(unix.SYS_SHM_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0)
		if e != 0 {
			return struct{}{}, e
		}
		return struct{}{}, nil
	})
	return err
}

// ShmRename atomically renames an object (shm_rename, 572, FreeBSD 13 and
// later). By default an existing destination is unlinked; flags may be 0,
// [RenameNoReplace] (EEXIST instead) or [RenameExchange] (swap the two).
func ShmRename(from, to string, flags int) error {
	f, err := unix.BytePtrFromString(from)
	if err != nil {
		return err
	}
	t, err := unix.BytePtrFromString(to)
	if err != nil {
		return err
	}
	_, err = ignoringEINTR(func() (struct{}, error) {
		_, _, e := unix.Syscall(sysShmRename, uintptr(unsafe.Pointer(f)), uintptr(unsafe.Pointer(t)), uintptr(flags))
		if e != 0 {
			return struct{}{}, e
		}
		return struct{}{}, nil
	})
	return err
}
