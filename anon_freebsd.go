package shm

import (
	"os"

	"github.com/shmkit/shm/internal/kern"
)

// createAnon uses SHM_ANON: shm_open2 with sealing allowed, or the older
// shm_open on kernels before FreeBSD 13.
func createAnon(size int64) (*Object, error) {
	fd, strategy, err := kern.ShmOpenAnon()
	if err != nil {
		return nil, os.NewSyscallError("shm_open2", err)
	}
	return sizedObject(fd, "shm:anonymous", strategy, size)
}
