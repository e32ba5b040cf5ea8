//go:build linux || openbsd || dragonfly || solaris

package doctor

import (
	"io/fs"
	"syscall"
	"time"
)

// statInfo extracts the times and owner of a file from its FileInfo.
func statInfo(fi fs.FileInfo) fileStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{Atime: fi.ModTime(), Mtime: fi.ModTime(), Ctime: fi.ModTime(), UID: -1}
	}
	return fileStat{
		Atime: time.Unix(st.Atim.Unix()),
		Mtime: time.Unix(st.Mtim.Unix()),
		Ctime: time.Unix(st.Ctim.Unix()),
		UID:   int(st.Uid),
		Exact: true,
	}
}
