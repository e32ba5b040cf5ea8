//go:build darwin

package kern

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Available reports whether this package reaches a kernel shm_open on the
// current operating system (FreeBSD and darwin).
const Available = true

// libcCall3 calls the C function at fn with three arguments through the
// runtime's libcCall, inside entersyscall/exitsyscall, and returns the errno
// when the int32 result is -1. It is syscall.syscall, which the syscall
// package exports by linkname for golang.org/x/sys/unix.
//
// The three-argument form matters on arm64: libSystem's shm_open is
// variadic and reads mode from the stack, and the runtime copies the third
// argument onto the stack only when exactly three arguments are passed
// (syscall6 would copy the fourth).
//
//go:linkname libcCall3 syscall.syscall
func libcCall3(fn, a1, a2, a3 uintptr) (r1, r2 uintptr, err unix.Errno)

// Addresses of the assembly trampolines in trampolines_darwin.s, which jump
// to the libSystem symbols imported below.
var (
	libc_shm_open_trampoline_addr   uintptr
	libc_shm_unlink_trampoline_addr uintptr
)

//go:cgo_import_dynamic libc_shm_open shm_open "/usr/lib/libSystem.B.dylib"
//go:cgo_import_dynamic libc_shm_unlink shm_unlink "/usr/lib/libSystem.B.dylib"

// ShmOpen opens or creates the named object with libSystem's
// shm_open(name, flags, mode). The kernel always sets close-on-exec. Names
// are compared byte for byte ("/x" and "x" differ) and may hold at most 31
// bytes (PSHMNAMLEN; longer gives ENAMETOOLONG). O_TRUNC fails with EINVAL
// once the object has storage.
func ShmOpen(name string, flags int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	return ignoringEINTR(func() (int, error) {
		r, _, e := libcCall3(libc_shm_open_trampoline_addr,
			uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode))
		if e != 0 {
			return -1, e
		}
		return int(int32(r)), nil
	})
}

// ShmUnlink removes the name of an object with libSystem's shm_unlink. It
// needs write permission or being the creator; every name error is reported
// as EINVAL. The object lives on until its last descriptor and mapping go
// away.
func ShmUnlink(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, err = ignoringEINTR(func() (struct{}, error) {
		_, _, e := libcCall3(libc_shm_unlink_trampoline_addr, uintptr(unsafe.Pointer(p)), 0, 0)
		if e != 0 {
			return struct{}{}, e
		}
		return struct{}{}, nil
	})
	return err
}

// errNoRename is what ShmRename returns: xnu has no call that renames a
// POSIX shm object.
var errNoRename = fmt.Errorf("shm_rename: no such call on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// ShmRename exists so that code shared by FreeBSD and darwin compiles;
// darwin has no shm_rename, so it always fails with an error wrapping
// [errors.ErrUnsupported] that names runtime.GOOS. On darwin, publish a
// sized object by creating it under its final name with O_EXCL and calling
// ftruncate once.
func ShmRename(from, to string, flags int) error {
	return errNoRename
}
