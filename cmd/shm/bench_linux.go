package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// rawAnonSteps returns the peer of CreateAnon+Close, the bare system calls
// of the memfd route, followed by that route plus the one system call
// CreateAnon makes on top of it: fchmod(0600), because a memfd is born
// 0666.
func rawAnonSteps() []rawStep {
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_NOEXEC_SEAL
	if fd, err := unix.MemfdCreate("shm", flags); err == unix.EINVAL {
		// Before Linux 6.3, as CreateAnon does.
		flags &^= unix.MFD_NOEXEC_SEAL
	} else if err == nil {
		unix.Close(fd)
	}
	step := func(fchmod bool) func(n int) error {
		return func(n int) error {
			for range n {
				fd, err := unix.MemfdCreate("shm", flags)
				if err != nil {
					return os.NewSyscallError("memfd_create", err)
				}
				if fchmod {
					err = unix.Fchmod(fd, 0o600)
				}
				if err == nil {
					err = unix.Ftruncate(fd, 4096)
				}
				unix.Close(fd)
				if err != nil {
					return os.NewSyscallError("raw memfd route", err)
				}
			}
			return nil
		}
	}
	return []rawStep{
		{name: "raw", calls: "memfd_create+ftruncate+close", loop: step(false)},
		{name: "raw+fchmod", calls: "memfd_create+fchmod+ftruncate+close", adds: "fchmod(0600)", loop: step(true)},
	}
}

// processCPUHow names the source of processCPU in the idle rows' notes.
const processCPUHow = "all its threads' schedstat"

// processCPU returns the CPU time every thread of process pid has used so
// far, from /proc/PID/task/*/schedstat (nanoseconds, not clock ticks).
func processCPU(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread is gone
		}
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, fmt.Errorf("%s/%s/schedstat: empty", dir, t.Name())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}
