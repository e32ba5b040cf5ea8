//go:build linux || openbsd || netbsd || dragonfly || solaris

package shm

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shmkit/shm/internal/dialect"
	"golang.org/x/sys/unix"
)

// File name patterns of the file dialects.
const (
	linuxSemPrefix  = "sem."     // glibc sem_open
	netbsdObjPrefix = ".shmobj_" // NetBSD librt
	solarisObjType  = ".SHMD"    // illumos libc, objects
	openbsdObjExt   = ".shm"
	openbsdSemExt   = ".sem"
)

// objectDir returns the directory the dialect keeps objects in now (the
// fallback directory when that libc would use it).
func objectDir(d *dialect.Dialect) (string, error) {
	p, err := d.Path("/x")
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(p)
	if d.OS == "dragonfly" && dir != d.Dir {
		return "", fmt.Errorf("%s is missing, so objects live in %s among other files and cannot be listed", d.Dir, dir)
	}
	return dir, nil
}

func list() (*Listing, error) {
	d, err := namedDialect()
	if err != nil {
		return nil, fmt.Errorf("shm: list: %w", err)
	}
	dir, err := objectDir(d)
	if err != nil {
		return nil, fmt.Errorf("shm: list: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("shm: list: %w", err)
	}
	l := &Listing{OS: d.OS, Dir: dir, Objects: []ObjectInfo{}}
	add := func(path string, info ObjectInfo) {
		var st unix.Stat_t
		if err := ignoringEINTR(func() error { return unix.Lstat(path, &st) }); err != nil {
			return // gone since ReadDir, or unreadable: not listed
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return
		}
		full := infoFromStat(info.Name, path, &st)
		full.Hash = info.Hash
		full.Kind = info.Kind
		l.Objects = append(l.Objects, full)
	}
	for _, e := range ents {
		base := e.Name()
		path := filepath.Join(dir, base)
		switch d.OS {
		case "linux", "dragonfly":
			kind := KindObject
			if d.OS == "linux" && strings.HasPrefix(base, linuxSemPrefix) {
				kind = KindSemaphore
			}
			add(path, ObjectInfo{Name: "/" + base, Kind: kind})
		case "netbsd":
			if rest, ok := strings.CutPrefix(base, netbsdObjPrefix); ok {
				add(path, ObjectInfo{Name: "/" + rest, Kind: KindObject})
			}
		case "openbsd":
			for ext, kind := range map[string]string{openbsdObjExt: KindObject, openbsdSemExt: KindSemaphore} {
				if h, ok := strings.CutSuffix(base, ext); ok && isHex(h, 64) {
					add(path, ObjectInfo{Hash: h, Kind: kind})
				}
			}
		case "solaris":
			if rest, ok := strings.CutPrefix(base, solarisObjType); ok && rest != "" {
				add(path, ObjectInfo{Name: "/" + rest, Kind: KindObject})
			} else if h, ok := strings.CutPrefix(base, "."); ok && isHex(h, 32) && e.IsDir() {
				// Long names: /tmp/.<md5>/.SHMD/<name>.
				sub := filepath.Join(path, solarisObjType)
				names, _ := os.ReadDir(sub)
				for _, n := range names {
					add(filepath.Join(sub, n.Name()), ObjectInfo{Name: "/" + n.Name(), Kind: KindObject})
				}
			}
		}
	}
	sortInfos(l.Objects)
	return l, nil
}

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func statNamed(name string) (ObjectInfo, error) {
	d, err := namedDialect()
	if err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	path, err := d.Path(name)
	if err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Lstat(path, &st) }); err != nil {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ObjectInfo{}, &fs.PathError{Op: "stat", Path: name,
			Err: fmt.Errorf("%s is a %s, not a shared-memory object: %w", path, fileType(uint32(st.Mode)), ErrNotMemory)}
	}
	info := infoFromStat(name, path, &st)
	switch d.OS {
	case "linux":
		if strings.HasPrefix(filepath.Base(path), linuxSemPrefix) {
			info.Kind = KindSemaphore
		}
	case "openbsd":
		info.Hash = strings.TrimSuffix(filepath.Base(path), openbsdObjExt)
	}
	return info, nil
}
