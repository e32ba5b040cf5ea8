package shm

import (
	"errors"
	"fmt"

	"github.com/shmkit/shm/internal/kern"
	"golang.org/x/sys/unix"
)

func list() (*Listing, error) {
	ents, err := kern.ListFreeBSD()
	if errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("shm: list: this FreeBSD has no kern.ipc.posix_shm_list sysctl (FreeBSD 13 and later have it), so its objects cannot be listed: %w: %w", errors.ErrUnsupported, err)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: list: %w", err)
	}
	l := &Listing{OS: "freebsd", Objects: make([]ObjectInfo, 0, len(ents))}
	for _, e := range ents {
		info, err := statNamed(e.Path)
		if err != nil {
			// Listed but not ours to open: what the sysctl says.
			info = ObjectInfo{Name: e.Path, Kind: KindObject, Path: e.Path, Size: e.Size, UID: -1, GID: -1, Mode: e.Perm()}
		}
		l.Objects = append(l.Objects, info)
	}
	sortInfos(l.Objects)
	return l, nil
}
