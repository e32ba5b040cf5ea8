package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/shmkit/shm/internal/dialect"
	"golang.org/x/sys/unix"
)

// memfdNoExecUnsupported records that the kernel rejected MFD_NOEXEC_SEAL (before
// Linux 6.3), so later calls skip it.
var memfdNoExecUnsupported atomic.Bool

// createAnon picks the Linux strategy: memfd, then O_TMPFILE, then a
// random name in /dev/shm. SHMDEBUG=anon=... forces one of them, and tests
// the file dialect of another OS rooted in /dev/shm (anonRoute), so that
// every route runs here.
func createAnon(size int64) (*Object, error) {
	switch s := anonRoute; s {
	case "":
	case "memfd":
		return anonMemfd(size)
	case "tmpfile":
		return anonTmpfile(size)
	case "random", "random-linux":
		return anonDialect("linux", "", size)
	case "openbsd", "netbsd", "dragonfly", "solaris":
		return anonDialect(s, "/dev/shm", size)
	default:
		return nil, fmt.Errorf("unknown anonymous route %q (want memfd, tmpfile, random, openbsd, netbsd, dragonfly or solaris)", s)
	}
	o, err := anonMemfd(size)
	if err == nil {
		return o, nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
		return nil, err
	}
	o, err = anonTmpfile(size)
	if err == nil {
		return o, nil
	}
	return anonDialect("linux", "", size)
}

// anonMemfd creates a memfd that allows sealing and is never executable.
func anonMemfd(size int64) (*Object, error) {
	const base = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	var fd int
	var err error
	if !memfdNoExecUnsupported.Load() {
		fd, err = unix.MemfdCreate("shm", base|unix.MFD_NOEXEC_SEAL)
		if err == unix.EINVAL {
			// Before Linux 6.3 the flag is unknown.
			memfdNoExecUnsupported.Store(true)
		}
	}
	if memfdNoExecUnsupported.Load() {
		fd, err = unix.MemfdCreate("shm", base)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	// memfd_create gives 0666 (0777 with MFD_EXEC); shm promises 0600.
	if err := unix.Fchmod(fd, 0o600); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fchmod", err)
	}
	// A memfd lives on the kernel's internal tmpfs, which has no size
	// limit: nothing to reserve against (see grow), so no fstatfs here.
	if size > 0 {
		if err := truncateUnlimited(fd, size); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return newRawObject(fd, "memfd:shm", "memfd"), nil
}

// anonTmpfile creates an unnamed file in /dev/shm with O_TMPFILE.
func anonTmpfile(size int64) (*Object, error) {
	var fd int
	err := ignoringEINTR(func() error {
		var e error
		fd, e = unix.Open("/dev/shm", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		return e
	})
	if err != nil {
		return nil, &os.PathError{Op: "open(O_TMPFILE)", Path: "/dev/shm", Err: err}
	}
	return sizedObject(fd, "/dev/shm/(tmpfile)", "tmpfile", size)
}

// anonDialect runs the random-name route of goos's libc, rooted in root
// when root is not "".
func anonDialect(goos, root string, size int64) (*Object, error) {
	d, err := dialect.ForOS(goos)
	if err != nil {
		return nil, err
	}
	if root != "" {
		d = d.Rooted(root)
	}
	f, err := d.CreateAnon(0)
	if err != nil {
		return nil, err
	}
	if size > 0 {
		if err := grow(int(f.Fd()), size); err != nil {
			f.Close()
			return nil, err
		}
	}
	return fileObject(f, "random-"+d.OS), nil
}
