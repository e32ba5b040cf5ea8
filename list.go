package shm

import (
	"io/fs"
	"time"
)

// Listing named objects, for operators and tools (the shm ls and shm stat
// commands).

// The kinds of named object an [ObjectInfo] describes.
const (
	// KindObject is a shared-memory object made by shm_open.
	KindObject = "object"
	// KindSemaphore is the file of a named POSIX semaphore made by
	// sem_open: glibc's /dev/shm/sem.NAME, OpenBSD's /tmp/<sha256>.sem.
	KindSemaphore = "semaphore"
)

// ObjectInfo describes a named object as the host holds it. It is read
// with lstat(2) from the object's file, or, where objects are kernel
// objects (FreeBSD, darwin), with fstat(2) after opening the object
// read-only; reading it changes none of the object's times.
type ObjectInfo struct {
	// Name is the name shm_open takes to reach the object ("/x"). It is
	// "" on OpenBSD, whose files are named by a hash of the name: see
	// Hash.
	Name string
	// Hash is, on OpenBSD, the SHA-256 (64 lowercase hex digits) of the
	// name that names the file; "" elsewhere.
	Hash string
	// Kind is [KindObject] or [KindSemaphore].
	Kind string
	// Path is the object's file, or for a kernel object its name.
	Path string
	// Size is the object's size in bytes.
	Size int64
	// UID and GID own the object; -1 when unknown (a FreeBSD object this
	// process may not open).
	UID, GID int
	// Mode holds the permission bits.
	Mode fs.FileMode
	// Atime, Mtime and Ctime are the last access, modification and
	// status change; zero when unknown. Using a mapping updates none of
	// them: see [Object.Touch].
	Atime, Mtime, Ctime time.Time
}

// A Listing is what [List] found.
type Listing struct {
	// OS names the rules the names follow: "linux", "openbsd", "netbsd",
	// "dragonfly", "solaris" (also on illumos) or "freebsd".
	OS string
	// Dir is the directory that was read, or "" for kernel objects
	// (FreeBSD).
	Dir string
	// Objects holds the objects found, sorted by Name, then Hash. Files
	// that are not regular files are left out.
	Objects []ObjectInfo
}

// List lists the named shared-memory objects on this host that this
// process can see:
//   - linux: the regular files in /dev/shm; glibc's named semaphores
//     (sem.NAME) are listed with [KindSemaphore] under the name that
//     reaches their file ("/sem.NAME");
//   - openbsd: /tmp/<sha256>.shm, and /tmp/<sha256>.sem as semaphores;
//     the names cannot be recovered from the hashes;
//   - netbsd: /var/shm/.shmobj_NAME;
//   - dragonfly: /var/run/shm (not /tmp, where that libc falls back when
//     /var/run/shm is missing: there objects cannot be told from other
//     files, and List says so);
//   - illumos and solaris: /tmp/.SHMDNAME and /tmp/.<md5>/.SHMD/NAME;
//   - freebsd: the kern.ipc.posix_shm_list sysctl (FreeBSD 13 and later),
//     objects of this jail only; owners and times are filled in for the
//     objects this process may open.
//
// darwin keeps its objects in the kernel and offers no way to list them:
// List fails there, as on systems without shared memory, with an error
// wrapping errors.ErrUnsupported.
func List() (*Listing, error) { return list() }

// Stat describes the named object name without opening it where it is a
// file, and without changing its times anywhere. A missing name gives an
// error satisfying errors.Is(err, fs.ErrNotExist); a name whose file is
// not a regular file is an error too.
func Stat(name string) (ObjectInfo, error) { return statNamed(name) }
