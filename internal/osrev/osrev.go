// Package osrev decides from an operating system's release number which
// system calls its kernel has, where trying one would be fatal.
//
// On NetBSD a system call number the kernel does not implement is
// UNIMPL in sys/kern/syscalls.master, and sys_nosys answers it with
// SIGSYS, which the Go runtime turns into a crash: __futex (166) before
// NetBSD 10 and memfd_create (501) before NetBSD 11 cannot be probed.
// The decisions here are plain data, tested on every host; only reading
// the running kernel's number is NetBSD code.
package osrev

import "fmt"

// NetBSD release numbers as kern.osrevision (__NetBSD_Version__ in
// sys/param.h) gives them: MMmmrrpp00, major MM, minor mm (99 for
// -current), patch pp.
const (
	// NetBSD10 is NetBSD 10.0, the first release with the native
	// __futex system call (sys/kern/sys_futex.c, 2020; 166 in
	// syscalls.master).
	NetBSD10 = 1000000000
	// NetBSD11 is NetBSD 11.0, the first release with memfd_create
	// (sys/kern/sys_memfd.c, July 2023; 501 in syscalls.master).
	NetBSD11 = 1100000000
)

// NetBSDFeatures says which optional system calls a NetBSD kernel has.
type NetBSDFeatures struct {
	// Futex: __futex (166), with Linux operation codes.
	Futex bool
	// MemfdCreate: memfd_create (501).
	MemfdCreate bool
}

// NetBSD returns the features of the NetBSD kernel whose kern.osrevision
// is rev. A -current kernel between two releases (x.99.y) gets only what
// the release before it had: the system calls arrived somewhere in the
// -current series, and guessing later than they did costs a fallback,
// guessing earlier costs the process.
func NetBSD(rev uint32) NetBSDFeatures {
	return NetBSDFeatures{
		Futex:       rev >= NetBSD10,
		MemfdCreate: rev >= NetBSD11,
	}
}

// NetBSDVersion formats a kern.osrevision value: 1000000000 is "10.0",
// 903000000 "9.3", 1099000600 "10.99.6".
func NetBSDVersion(rev uint32) string {
	major := rev / 100000000
	minor := rev / 1000000 % 100
	patch := rev / 100 % 100
	if minor == 99 || patch != 0 {
		return fmt.Sprintf("%d.%d.%d", major, minor, patch)
	}
	return fmt.Sprintf("%d.%d", major, minor)
}
