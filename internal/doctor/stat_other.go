//go:build !unix

package doctor

import "io/fs"

// statInfo extracts what it can of a file's times: here only the
// modification time is portable, and the owner is unknown.
func statInfo(fi fs.FileInfo) fileStat {
	return fileStat{Atime: fi.ModTime(), Mtime: fi.ModTime(), Ctime: fi.ModTime(), UID: -1}
}
