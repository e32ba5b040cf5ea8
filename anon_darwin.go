package shm

import (
	"errors"
	"os"

	"github.com/shmkit/shm/internal/dialect"
	"github.com/shmkit/shm/internal/kern"
	"golang.org/x/sys/unix"
)

// createAnon opens a random name through libSystem's shm_open, exclusively,
// and unlinks it at once. darwin has neither memfd nor SHM_ANON.
func createAnon(size int64) (*Object, error) {
	d, err := dialect.ForOS("darwin")
	if err != nil {
		return nil, err
	}
	for range 16 {
		name := d.RandomName()
		fd, err := kern.ShmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "shm_open", Path: name, Err: err}
		}
		if err := kern.ShmUnlink(name); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "shm_unlink", Path: name, Err: err}
		}
		return sizedObject(fd, "shm:anonymous", "random-darwin", size)
	}
	return nil, errors.New("shm_open: 16 random names in a row were taken")
}
