package dialect

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"syscall"
)

// Limits of the kernel dialects.
const (
	freebsdMaxPath = 1024 // MAXPATHLEN, NUL included (no jail prefix)
	darwinMaxName  = 31   // PSHMNAMLEN
)

// Type prefixes of the illumos and Solaris libc (pos4obj.h).
const (
	solarisDataType = ".SHMD"
	solarisLockType = ".SHML"
	solarisPathMax  = 1024 // PATH_MAX
)

// netbsdPrefix starts every object file name in /var/shm.
const netbsdPrefix = ".shmobj_"

// linuxRel is glibc's __shm_get_name and musl's __shm_mapname: leading
// slashes stripped; empty, "." , ".." or another slash is EINVAL; more
// than NAME_MAX bytes is ENAMETOOLONG.
func linuxRel(name, _ string) (string, syscall.Errno) {
	n := strings.TrimLeft(name, "/")
	if n == "" || n == "." || n == ".." || strings.Contains(n, "/") {
		return "", syscall.EINVAL
	}
	if len(n) > nameMax {
		return "", syscall.ENAMETOOLONG
	}
	return n, 0
}

// openbsdRel is OpenBSD's makeshmpath: the SHA-256 of the whole name,
// slashes included, in lowercase hex, plus ".shm". Any name is accepted.
func openbsdRel(name, _ string) (string, syscall.Errno) {
	return sha256Hex(name) + ".shm", 0
}

// netbsdRel is NetBSD's _shm_get_path: exactly one leading slash and no
// other, else EINVAL; the file is ".shmobj_" plus the rest. "/" alone is
// accepted. NAME_MAX is left to the kernel by libc; tmpfs allows 255
// bytes, so a longer file name is ENAMETOOLONG.
func netbsdRel(name, _ string) (string, syscall.Errno) {
	if name == "" || name[0] != '/' || strings.Contains(name[1:], "/") {
		return "", syscall.EINVAL
	}
	rel := netbsdPrefix + name[1:]
	if len(rel) > nameMax {
		return "", syscall.ENAMETOOLONG
	}
	return rel, 0
}

// dragonflyRel is DragonFly's newest posixshm.c: leading slashes stripped
// and the rest opened relative to the directory. An empty rest is what
// openat makes of "": ENOENT. That libc turns inner slashes into
// subdirectories; we reject them with EINVAL.
func dragonflyRel(name, _ string) (string, syscall.Errno) {
	n := strings.TrimLeft(name, "/")
	if n == "" {
		return "", syscall.ENOENT
	}
	if strings.Contains(n, "/") {
		return "", syscall.EINVAL
	}
	if len(n) > nameMax {
		return "", syscall.ENAMETOOLONG
	}
	return n, 0
}

// solarisRel is illumos' __pos4obj_check and __pos4obj_name for type typ:
// exactly one leading slash and no other, else EINVAL; more than NAME_MAX
// bytes after the slash is ENAMETOOLONG. The file is typ plus the name
// without its slash, or, when that is longer than NAME_MAX,
// ".<md5>/<typ>/<name>" where <md5> is md5Hex of the name without its
// slash.
func solarisRel(name, typ string) (string, syscall.Errno) {
	if name == "" || name[0] != '/' || strings.Contains(name[1:], "/") {
		return "", syscall.EINVAL
	}
	n := name[1:]
	if len(n) > solarisPathMax || len(n) > nameMax {
		return "", syscall.ENAMETOOLONG
	}
	if len(n) > nameMax-len(typ) {
		return "." + solarisMD5Hex(n) + "/" + typ + "/" + n, 0
	}
	return typ + n, 0
}

// freebsdRel is FreeBSD's shm_copyin_path: at most MAXPATHLEN-1 bytes
// (ENAMETOOLONG), then a leading slash (EINVAL). Other slashes are part of
// the key. There is no file, so the relative path is "".
func freebsdRel(name, _ string) (string, syscall.Errno) {
	if len(name) >= freebsdMaxPath {
		return "", syscall.ENAMETOOLONG
	}
	if name == "" || name[0] != '/' {
		return "", syscall.EINVAL
	}
	return "", 0
}

// darwinRel is xnu's pshm name check: empty is EINVAL, more than
// PSHMNAMLEN (31) bytes is ENAMETOOLONG. Slashes are not special.
func darwinRel(name, _ string) (string, syscall.Errno) {
	if name == "" {
		return "", syscall.EINVAL
	}
	if len(name) > darwinMaxName {
		return "", syscall.ENAMETOOLONG
	}
	return "", 0
}

// checkNUL rejects a NUL byte, which C would take as the end of the name.
func checkNUL(name string) syscall.Errno {
	if strings.IndexByte(name, 0) >= 0 {
		return syscall.EINVAL
	}
	return 0
}

// checkOurs is our rule on top of every libc: no NUL byte, and no "." or
// ".." between slashes, so no name can leave its directory.
func checkOurs(name string) syscall.Errno {
	if checkNUL(name) != 0 {
		return syscall.EINVAL
	}
	for c := range strings.SplitSeq(name, "/") {
		if c == "." || c == ".." {
			return syscall.EINVAL
		}
	}
	return 0
}

// sha256Hex is OpenBSD's SHA256Data: 64 lowercase hex digits.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// solarisMD5Hex is illumos' __pos4obj_md5toa: the digest read as four
// native 32-bit words, each printed with "%.8x". Go runs illumos and
// Solaris only on little-endian machines (amd64, and arm64 where it
// exists), so the words are little-endian: the bytes of each group of four
// appear reversed compared with the usual hex digest.
func solarisMD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	var b strings.Builder
	for i := 0; i < len(sum); i += 4 {
		fmt.Fprintf(&b, "%.8x", binary.LittleEndian.Uint32(sum[i:]))
	}
	return b.String()
}
