package shm

import (
	"fmt"
	"io/fs"

	"github.com/shmkit/shm/internal/dialect"
)

// Named objects.
//
// A named object is the very object that the C library's shm_open opens
// under the same name on the same OS, so Go, C, Python and Rust programs
// on one host meet in it. Where libc computes a path and calls open(2)
// (Linux, OpenBSD, NetBSD, DragonFly, illumos and Solaris), shm does the
// same computation in Go; where the kernel holds the names (FreeBSD,
// darwin), shm makes the same system call. Names follow the OS's rules
// ([ValidName]); a name that passes [ValidPortableName] works everywhere.

// An OpenOption changes how [Open] and [OpenReadOnly] open a name.
type OpenOption func(*openConfig)

type openConfig struct {
	readOnly     bool
	foreignOwner bool
}

// AllowForeignOwner lets Open accept an object owned by another user.
// Without it, an existing object whose owner is not the effective user is
// refused with an error satisfying errors.Is(err, fs.ErrPermission), so
// that another user cannot plant an object for you to trust. OpenBSD's
// libc always refuses, and so does shm there.
func AllowForeignOwner() OpenOption { return func(c *openConfig) { c.foreignOwner = true } }

// OpenReadOnly opens an existing named object for reading only. It never
// truncates; its mappings are read-only.
func OpenReadOnly(name string, opts ...OpenOption) (*Object, error) {
	c := openConfigOf(opts)
	c.readOnly = true
	return openNamed(name, c)
}

// Open opens an existing named object for reading and writing. It never
// creates and never truncates. A missing name gives an error satisfying
// errors.Is(err, fs.ErrNotExist).
func Open(name string, opts ...OpenOption) (*Object, error) {
	return openNamed(name, openConfigOf(opts))
}

// openConfigOf applies opts to a zero configuration. It never appends to
// opts: the caller's slice may have spare capacity that it still uses.
func openConfigOf(opts []OpenOption) openConfig {
	var c openConfig
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

// Create makes a new named object of size bytes with permission bits perm
// (0600 when perm is 0), failing with an error satisfying
// errors.Is(err, fs.ErrExist) if the name is taken. perm may hold only the
// 0777 bits. Create refuses a name holding a control character (a newline,
// an escape), which would garble terminals and listings, though the OS
// may accept it; [Open] and [Unlink] take what the OS takes, so objects
// other programs made under such names can still be reached.
//
// Openers never see a half-made object: on the systems where an object is
// a file, Create makes it under a random temporary name, sizes it and
// reserves its memory (fallocate on Linux, zeros written on OpenBSD,
// NetBSD, DragonFly, illumos and Solaris, so that a full /dev/shm fails
// here with ENOSPC rather than later with SIGBUS; FreeBSD and darwin
// objects are swap-backed and need no reservation), and only then
// links it to the name, atomically and exclusively, as glibc's sem_open
// does. On FreeBSD the temporary object is renamed with
// SHM_RENAME_NOREPLACE. darwin has no rename: there the name appears at
// shm_open and the size follows at once, so an opener can see size 0 for
// an instant ([Open] on darwin waits up to 100 ms for a size). darwin
// also allows one size per object, set once: there Create with size 0
// leaves the object unsized (any ftruncate, even to 0, would use up that
// one size), and a later [Object.Truncate] sets it.
//
// On windows the object is a named section made whole and sized by one
// CreateFileMapping call, so openers never see it half-made; its size
// cannot be 0 or change later, and perm is checked but not applied: the
// section gets the default security of the creator's token (the creating
// user, SYSTEM and administrators). See [ValidName] for the names.
func Create(name string, size int64, perm fs.FileMode) (*Object, error) {
	if perm == 0 {
		perm = 0o600
	}
	if err := checkSize(size); err != nil {
		return nil, &fs.PathError{Op: "shm_create", Path: name, Err: err}
	}
	if perm&^fs.ModePerm != 0 {
		return nil, &fs.PathError{Op: "shm_create", Path: printableName(name),
			Err: fmt.Errorf("permission bits %#o (%v) lie outside 0777: only read, write and execute for owner, group and others may be given: %w", uint32(perm), perm, fs.ErrInvalid)}
	}
	if hasControl(name) {
		if err := validName(name); err != nil {
			return nil, err
		}
		return nil, &fs.PathError{Op: "shm_create", Path: printableName(name), Err: fmt.Errorf("%w: %w", errControlName, fs.ErrInvalid)}
	}
	return createNamed(name, size, perm)
}

// Unlink removes a name. Processes that hold the object keep it; it is
// freed when the last descriptor and mapping are gone. A missing name
// gives an error satisfying errors.Is(err, fs.ErrNotExist).
//
// On windows a section's name cannot be removed while the section is open
// anywhere: Unlink returns nil when a section has the name and removes
// nothing; the name goes when the last handle and view of the section
// close, and until then [Open] still finds it and [Create] fails with
// fs.ErrExist.
func Unlink(name string) error { return unlinkNamed(name) }

// ValidName reports whether name is acceptable to this OS's shm_open, by
// that libc's or kernel's rules, and to shm's own rule that applies
// everywhere: no name may escape its directory ("..", "../x", "/a/../b")
// or hold a NUL byte. The error is a *fs.PathError whose Err is the errno
// libc would return (EINVAL, ENAMETOOLONG) or a message for shm's rules.
//
// On windows a name is "/x" (the section "Local\x", in the logon
// session's namespace), or "Local\x" or "Global\x" as Windows writes it
// (creating in Global\ needs SeCreateGlobalPrivilege); x is 1 or more
// bytes of UTF-8 without '/', '\' or NUL, not "." or "..", and the whole
// Windows name at most 260 bytes.
func ValidName(name string) error { return validName(name) }

// ValidPortableName reports whether name works on every OS shm supports:
// one leading '/', then 1 to 30 bytes of [A-Za-z0-9._-], and not "." or
// "..". Such a name is accepted by every OS's shm_open and means the same
// object's name everywhere (on OpenBSD it is hashed into a path, on
// darwin it fits the 31-byte limit).
func ValidPortableName(name string) error {
	if err := dialect.ValidPortable(name); err != nil {
		return &fs.PathError{Op: "shm_open", Path: name, Err: err}
	}
	return nil
}
