package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// minDevShm is the /dev/shm size below which devshm.size warns: Docker
// gives containers 64 MiB.
const minDevShm = 256 << 20

// devShmRemedy says how to give a host or container a bigger /dev/shm.
const devShmRemedy = "Docker: `docker run --shm-size=1g` (compose: `shm_size: 1g`); " +
	"Kubernetes: mount an emptyDir with `medium: Memory` (and a sizeLimit) at /dev/shm; " +
	"a host: `mount -o remount,size=1G /dev/shm` and set the size in /etc/fstab."

// findMount returns the last mountinfo entry for mount point mp, the one
// visible on top.
func (r *runner) findMount(mp string) (Mount, bool, error) {
	b, err := r.readFile("/proc/self/mountinfo")
	if err != nil {
		return Mount{}, false, err
	}
	var found Mount
	ok := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		m, err := ParseMountinfoLine(sc.Text())
		if err != nil {
			continue
		}
		if m.MountPoint == mp {
			found, ok = m, true
		}
	}
	return found, ok, nil
}

// resolveLink follows symlinks of host path p under Root (up to 8).
func (r *runner) resolveLink(p string) string {
	for range 8 {
		fi, err := r.lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p
		}
		t, err := os.Readlink(r.path(p))
		if err != nil {
			return p
		}
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(p), t)
		}
		p = path.Clean(t)
	}
	return p
}

// checkDevShm looks at /dev/shm: present, tmpfs, size, free, mode.
func checkDevShm(r *runner) Finding {
	if r.env.GOOS != "linux" && r.env.GOOS != "android" {
		return r.skipOS("/dev/shm as the home of named objects", "Linux")
	}
	const meaningBase = "glibc (2.34+) and musl keep named objects (shm_open, sem_open) as files in /dev/shm, and so does shm; " +
		"their pages count against its size. "
	dir := r.resolveLink("/dev/shm")
	fi, err := r.stat(dir)
	if err != nil || !fi.IsDir() {
		what := "does not exist"
		if err == nil {
			what = "is not a directory"
		} else if !os.IsNotExist(err) {
			what = "cannot be read: " + err.Error()
		}
		return Finding{
			Status:  Fail,
			Summary: "/dev/shm " + what,
			Meaning: meaningBase + "Without it named objects cannot be created or opened, by shm or by C programs; anonymous objects (memfd) still work.",
			Remedy:  "Mount it: `mkdir -p /dev/shm && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm` (add it to /etc/fstab; containers get it from the runtime).",
		}
	}
	var parts, problems []string
	if dir != "/dev/shm" {
		parts = append(parts, "/dev/shm -> "+dir)
	}
	m, mounted, merr := r.findMount(dir)
	fsType := ""
	var size, free uint64
	haveSize, haveFree := false, false
	if mounted {
		fsType = m.FSType
		if v, ok := m.Option("size"); ok {
			if n, ok := parseTmpfsSize(v); ok {
				size, haveSize = n, true
			}
		}
	}
	var statfsErr error
	if r.env.Statfs != nil {
		if st, err := r.env.Statfs(dir); err == nil {
			if fsType == "" {
				fsType = st.Type
			}
			if st.Size > 0 || !haveSize {
				size, haveSize = st.Size, true
			}
			free, haveFree = st.Free, true
		} else {
			statfsErr = err
		}
	}
	status := OK
	var remedies []string
	switch {
	case merr != nil:
		parts = append(parts, "mount table unreadable ("+merr.Error()+")")
	case !mounted:
		parts = append(parts, "not a mount point")
		status = Warn
		problems = append(problems, "it is a plain directory on the filesystem above it, so objects share that filesystem's space")
		remedies = append(remedies, "Mount a tmpfs on /dev/shm: `mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm`.")
	}
	if fsType != "" {
		parts = append(parts, fsType)
		if fsType != "tmpfs" && fsType != "ramfs" {
			status = Warn
			problems = append(problems, fsType+" is not a memory filesystem: objects are written to storage and may not support everything tmpfs does")
			remedies = append(remedies, "Mount a tmpfs on /dev/shm.")
		}
	}
	switch {
	case !haveSize:
		parts = append(parts, "size unknown")
	case size == 0:
		parts = append(parts, "no size limit")
	default:
		parts = append(parts, formatBytes(size))
		if size < minDevShm {
			status = Warn
			problems = append(problems, fmt.Sprintf("%s is small (Docker's default is 64 MiB): creating or growing objects beyond it fails with ENOSPC, and touching pages of an object that was sized but never allocated raises SIGBUS", formatBytes(size)))
			remedies = append(remedies, devShmRemedy)
		}
	}
	if statfsErr != nil {
		parts = append(parts, "free space unknown ("+statfsErr.Error()+")")
	}
	if haveFree {
		parts = append(parts, formatBytes(free)+" free")
		if size > 0 && free < size/10 {
			status = Warn
			problems = append(problems, fmt.Sprintf("only %s of %s is free: leaked or large objects fill it, and the next writer gets ENOSPC or SIGBUS", formatBytes(free), formatBytes(size)))
			remedies = append(remedies, "List /dev/shm (`ls -la /dev/shm`), remove leaked objects, or enlarge it. "+devShmRemedy)
		}
	}
	mode := fi.Mode()
	parts = append(parts, fmt.Sprintf("mode %s", modeString(mode)))
	if mode.Perm()&0o777 != 0o777 || mode&fs.ModeSticky == 0 {
		status = Warn
		problems = append(problems, fmt.Sprintf("mode %s is not 1777: users other than its owner cannot create objects, or can delete each other's", modeString(mode)))
		remedies = append(remedies, "`chmod 1777 /dev/shm`, or mount it with mode=1777.")
	}
	f := Finding{
		Status:  status,
		Summary: "/dev/shm: " + strings.Join(parts, ", "),
		Meaning: meaningBase + "It looks healthy.",
	}
	if len(problems) > 0 {
		f.Meaning = meaningBase + capitalize(strings.Join(problems, "; ")) + "."
	}
	if status != OK {
		f.Remedy = strings.Join(dedup(remedies), " ")
		if f.Remedy == "" {
			f.Remedy = "See the summary."
		}
	}
	return f
}

// parseTmpfsSize parses tmpfs's size= option: bytes with an optional
// k, m, g (or K, M, G) suffix; a "%" size is not resolved.
func parseTmpfsSize(v string) (uint64, bool) {
	if v == "" || strings.HasSuffix(v, "%") {
		return 0, false
	}
	mult := uint64(1)
	switch v[len(v)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		v = v[:len(v)-1]
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > (1<<63)/mult {
		return 0, false
	}
	return n * mult, true
}

// modeString renders permission bits with the sticky bit in octal: "1777".
func modeString(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	return fmt.Sprintf("%04o", v)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
