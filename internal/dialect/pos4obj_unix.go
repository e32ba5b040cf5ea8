//go:build unix

package dialect

import (
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// This file holds the parts of illumos' libc pos4obj.c that touch files:
// the lock file held around every operation, and the hash directories of
// long names.

// lock takes the dialect's lock file for name in dir, the way illumos'
// __pos4obj_lock does: create <dir>/.SHML<name> (or its hash-directory
// form) with O_RDWR|O_CREAT|O_EXCL, mode 0666; on EEXIST wait and retry,
// lockTries times in all, then fail with EEXIST. A symbolic link there is
// EINVAL. Dialects without a lock type get a no-op.
//
// The returned unlock removes the lock file and the hash directories it
// emptied. A process that dies holding the lock leaves the file behind,
// and every later operation on the name then fails after
// lockTries*lockDelay (about 64 s with libc's values), in C as here.
func (d *Dialect) lock(dir, name string) (unlock func() error, err error) {
	if d.lockType == "" {
		return func() error { return nil }, nil
	}
	rel, e := d.mapName(name, d.lockType)
	if e != 0 {
		return nil, e
	}
	if err := makeHashDirs(dir, rel); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, rel)
	for try := 0; ; try++ {
		fd, err := d.openFile(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o666)
		if err == nil {
			unix.Close(fd)
			return func() error {
				err := ignoringEINTR(func() error { return unix.Unlink(path) })
				cleanHashDirs(dir, rel)
				return err
			}, nil
		}
		if err == syscall.ENOENT && try+1 < d.lockTries {
			// Another opener's unlock removed the hash directories,
			// empty for an instant, after this one made them: make them
			// again and retry (libc fails here with ENOENT, calling an
			// existing object missing).
			if err := makeHashDirs(dir, rel); err != nil {
				return nil, err
			}
			continue
		}
		if err != syscall.EEXIST || try+1 >= d.lockTries {
			cleanHashDirs(dir, rel)
			return nil, err
		}
		if d.lockPause != nil {
			d.lockPause(d.lockDelay)
		} else {
			time.Sleep(d.lockDelay)
		}
	}
}

// makeHashDirs creates the two directories of a hash-layout path
// ".<md5>/<type>/<name>" under dir, mode 0777 whatever the umask, as
// illumos' __pos4obj_name does; existing ones are fine. Other paths need
// nothing.
//
// Unlike libc, it never goes through a symbolic link: the md5 of a name
// is known to anyone, who could plant ".<md5>" in /tmp as a link to a
// directory of their choice, where the objects and the 0777 directories
// would then be made. Each directory, made or found, is opened with
// O_DIRECTORY|O_NOFOLLOW (anything else there is EINVAL, as a link at a
// lock file's place is), and a new one gets its mode through that
// descriptor. What this cannot close is a swap of the second directory
// (its parent is 0777 without the sticky bit) between this check and the
// open of the object beneath it, a window libc has too.
func makeHashDirs(dir, rel string) error {
	hash, typ, ok := hashDirs(rel)
	if !ok {
		return nil
	}
	var err error
	// Another process's cleanHashDirs may remove them, empty, as they are
	// made (ENOENT): make them again, a few times.
	for range 8 {
		if err = makeDirs(filepath.Join(dir, hash), filepath.Join(dir, hash, typ)); err != syscall.ENOENT {
			break
		}
	}
	return err
}

// makeDirs makes or finds each directory of paths in turn, as
// makeHashDirs says.
func makeDirs(paths ...string) error {
	for _, p := range paths {
		err := unix.Mkdir(p, 0o777)
		made := err == nil
		if err != nil && err != syscall.EEXIST {
			return err
		}
		var fd int
		err = ignoringEINTR(func() (e error) {
			fd, e = unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
			return e
		})
		if err != nil {
			if err == syscall.ENOENT {
				return err
			}
			return syscall.EINVAL // a link, or not a directory
		}
		if made {
			err = unix.Fchmod(fd, 0o777)
		}
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

// cleanHashDirs removes the two directories of a hash-layout path if they
// are empty, as illumos' __pos4obj_clean does. Errors are ignored: a
// directory that is not empty is still in use.
func cleanHashDirs(dir, rel string) {
	hash, typ, ok := hashDirs(rel)
	if !ok {
		return
	}
	unix.Rmdir(filepath.Join(dir, hash, typ))
	unix.Rmdir(filepath.Join(dir, hash))
}

// hashDirs splits a hash-layout path ".<md5>/<type>/<name>".
func hashDirs(rel string) (hash, typ string, ok bool) {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}
