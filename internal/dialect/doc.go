// Package dialect holds, as plain Go data and functions, the exact rules
// each operating system's libc (or kernel) applies to POSIX shared-memory
// names: which names shm_open accepts, which errno it returns for the
// others, which file a name maps to, which flags and mode bits are forced,
// and which checks run after the open.
//
// Because the rules are data, every dialect runs on any Unix host: a
// [Dialect] [Dialect.Rooted] in a test directory behaves on Linux as that
// OS's libc behaves in /tmp or /var/shm, so the OpenBSD, NetBSD, DragonFly
// and illumos code paths are tested where the tests run.
//
// # Dialects
//
//   - linux (glibc and musl): /dev/shm/NAME; leading slashes are stripped,
//     any other slash, an empty name, "." or ".." is EINVAL, more than
//     NAME_MAX (255) bytes is ENAMETOOLONG. O_NOFOLLOW|O_CLOEXEC forced.
//     glibc's shm_unlink reports every bad name as ENOENT and turns EPERM
//     into EACCES; its shm_open turns EISDIR into EINVAL. musl also adds
//     O_NONBLOCK, which we add too (see Open) but clear again.
//   - openbsd: /tmp/<sha256 hex of the whole name>.shm; any name, slashes
//     included, is hashed. Only O_RDONLY or O_RDWR plus
//     O_CREAT|O_EXCL|O_TRUNC|O_CLOEXEC|O_NOFOLLOW are accepted (EINVAL);
//     the mode is masked with 0600; after the open the file must be a
//     regular file (EINVAL) owned by the effective uid (EPERM).
//   - netbsd: /var/shm/.shmobj_NAME; exactly one leading slash and no
//     other (EINVAL). Every call fails with ENOTSUP unless the directory is
//     a tmpfs whose mode includes 01777.
//   - dragonfly: /var/run/shm/NAME with leading slashes stripped, or /tmp
//     when /var/run/shm is missing (the newest libc). That libc makes inner
//     slashes into subdirectories (mode 01777); we reject inner slashes
//     with EINVAL instead, as every other file dialect does.
//   - solaris (also illumos): /tmp/.SHMD<name without its slash>; exactly
//     one leading slash and no other (EINVAL); names longer than
//     NAME_MAX-len(".SHMD") use /tmp/.<md5 hex>/.SHMD/<name>. Every
//     operation holds the lock file /tmp/.SHML<name>, created with O_EXCL
//     and retried once a second up to 64 times (then EEXIST); a symbolic
//     link where the object should be is EINVAL.
//   - freebsd: kernel objects (shm_open2), not files. A name must start
//     with a slash; other slashes are allowed; at most MAXPATHLEN-1 bytes.
//   - darwin: kernel objects, not files. 1 to 31 bytes (PSHMNAMLEN);
//     longer is ENAMETOOLONG from shm_open and EINVAL from shm_unlink; no
//     slash processing.
//
// On top of each libc rule every dialect applies one of ours: a name with
// a NUL byte, or with "." or ".." as a slash-separated component ("..",
// "/../x", "/a/../b", "/."), is EINVAL, whatever that libc would do with
// it. Such a name can never leave the dialect's directory.
//
// # Differences from libc
//
// The file dialects open with the host's open(2), so errno values are the
// host's for failures of the system calls themselves. Deliberate
// differences, all on the safe side:
//   - symbolic links are never followed (O_NOFOLLOW everywhere);
//   - anything but a regular file is refused with EINVAL after the open,
//     which is made with O_NONBLOCK so a FIFO cannot block it;
//   - O_TRUNC is applied with ftruncate after the ownership and type
//     checks, never before them, and needs write access (EINVAL);
//   - an existing object owned by another user is refused with EPERM
//     unless [OpenOptions].AllowForeignOwner is set (OpenBSD always
//     refuses);
//   - [Dialect.Create] publishes only a fully sized object (see there).
package dialect
