package shm

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates a new object's memory now (fallocate), so that a full
// tmpfs fails at Create with ENOSPC instead of killing a process with
// SIGBUS on first touch. The object is not published yet: on a
// filesystem without fallocate its pages are written with zeros instead.
func reserve(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = grow(int(fd), size) }); err != nil {
		return err
	}
	return ferr
}

// grow makes fd's object to bytes long (more than it has), allocating the memory of the whole object first: fallocate(2)
// without FALLOC_FL_KEEP_SIZE allocates [0, to) and sets the size in one
// call, and sets nothing when it fails. Where the filesystem has no
// fallocate (ramfs), the new bytes are written with zeros instead.
//
// A filesystem without a size limit (statfs reports no blocks: the
// kernel's internal tmpfs that holds memfds, a tmpfs mounted with size=0)
// cannot run out of space, so a first touch there never raises SIGBUS
// (lack of memory brings the OOM killer instead, as for any anonymous
// memory); its objects are sized with ftruncate and their memory is not
// taken up front, where fallocate of a huge size would eat the host's
// memory before failing.
//
// Neither fallocate nor extendTo ever shrinks the object, should another
// process have grown it past to since its size was read.
func grow(fd int, to int64) error {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }); err != nil {
		return os.NewSyscallError("fstatfs", err)
	}
	if st.Blocks == 0 {
		return extendTo(fd, to)
	}
	err := ignoringEINTR(func() error { return unix.Fallocate(fd, 0, 0, to) })
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return growByWriting(fd, to)
	}
	if err != nil {
		return reserveErr(to, os.NewSyscallError("fallocate", err))
	}
	return nil
}

// truncateUnlimited sizes a new object on a filesystem without a size
// limit.
func truncateUnlimited(fd int, size int64) error {
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	return nil
}
