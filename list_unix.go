//go:build unix

package shm

import (
	"io/fs"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// infoFromStat fills an ObjectInfo from a stat structure.
func infoFromStat(name, path string, st *unix.Stat_t) ObjectInfo {
	return ObjectInfo{
		Name:  name,
		Kind:  KindObject,
		Path:  path,
		Size:  st.Size,
		UID:   int(st.Uid),
		GID:   int(st.Gid),
		Mode:  fs.FileMode(st.Mode) & fs.ModePerm,
		Atime: time.Unix(st.Atim.Unix()),
		Mtime: time.Unix(st.Mtim.Unix()),
		Ctime: time.Unix(st.Ctim.Unix()),
	}
}

// sortInfos sorts objects by Name, then Hash, then Path.
func sortInfos(objs []ObjectInfo) {
	sort.Slice(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Hash != b.Hash {
			return a.Hash < b.Hash
		}
		return a.Path < b.Path
	})
}
