package main

import "golang.org/x/sys/unix"

// rawAnon is the peer of CreateAnon+Close: the bare system calls.
func rawAnon() (func(n int) error, string) {
	return func(n int) error {
		for range n {
			fd, err := unix.MemfdCreate("shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
			if err != nil {
				return err
			}
			if err := unix.Ftruncate(fd, 4096); err != nil {
				unix.Close(fd)
				return err
			}
			unix.Close(fd)
		}
		return nil
	}, "memfd_create+ftruncate+close"
}
