package dialect

import (
	"errors"
	"io/fs"

	"github.com/shmkit/shm/internal/statfs"
)

// hostFSType returns the type name of the file system holding dir
// ("tmpfs", ...). An error is the system call's, without the path (the
// caller names dir).
func hostFSType(dir string) (string, error) {
	f, err := statfs.Stat(dir)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err
	}
	return f.Type, err
}
