// Package kern calls the POSIX shared-memory system calls of the operating
// systems on which shm_open does not name a file: FreeBSD, where shm_open2,
// shm_unlink and shm_rename are kernel system calls reached with raw
// syscalls, and darwin, where shm_open and shm_unlink live in the kernel but
// must be reached through libSystem.
//
// The functions return raw [golang.org/x/sys/unix.Errno] values; callers
// wrap them (for example in an [io/fs.PathError]). Names are passed to the
// kernel unchanged: validating them is the caller's job. On every other
// operating system only [ShmOpen] and [ShmUnlink] exist, and they return an
// error wrapping [errors.ErrUnsupported] that names runtime.GOOS;
// [Available] tells the two cases apart at compile time.
//
// The parser for FreeBSD's kern.ipc.posix_shm_list sysctl ([ParseList]) is
// plain Go and builds everywhere, so it is tested and fuzzed on any host.
//
// NOTES.md in this directory lists the semantics callers must handle.
package kern
