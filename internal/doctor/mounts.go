package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// A Mount is one line of Linux's /proc/PID/mountinfo (proc(5)).
type Mount struct {
	ID, Parent   int
	Dev          string // "major:minor"
	Root         string // root of the mount within its filesystem
	MountPoint   string
	Options      string // per-mount options: "rw,nosuid,nodev"
	FSType       string // "tmpfs", "ext4", "fuse.sshfs"
	Source       string
	SuperOptions string // per-superblock options: "rw,size=65536k,mode=1777"
}

// Option returns the value of a superblock or mount option such as
// "size" or "mode", and whether it was present.
func (m Mount) Option(name string) (string, bool) {
	for _, opts := range []string{m.SuperOptions, m.Options} {
		for o := range strings.SplitSeq(opts, ",") {
			k, v, _ := strings.Cut(o, "=")
			if k == name {
				return v, true
			}
		}
	}
	return "", false
}

// ParseMountinfoLine parses one line of /proc/PID/mountinfo:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Optional fields (master:1 ...) are skipped up to the "-" separator.
// Octal escapes (\040 for a space) in paths are decoded.
func ParseMountinfoLine(s string) (Mount, error) {
	f := kernelFields(s)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 9 || sep < 0 || len(f) < sep+3 || f[sep+1] == "-" {
		return Mount{}, fmt.Errorf("mountinfo: malformed line %q", s)
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Mount{}, fmt.Errorf("mountinfo: bad mount IDs in %q", s)
	}
	m := Mount{
		ID:         id,
		Parent:     parent,
		Dev:        f[2],
		Root:       unescapeOctal(f[3]),
		MountPoint: unescapeOctal(f[4]),
		Options:    f[5],
		FSType:     f[sep+1],
		Source:     unescapeOctal(f[sep+2]),
	}
	if len(f) > sep+3 {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// An FstabEntry is one line of /etc/fstab (fstab(5)).
type FstabEntry struct {
	Spec    string // device or special: "/dev/wd0a", "tmpfs", "NAME=..."
	File    string // mount point
	VFSType string
	Options []string
	Freq    int
	PassNo  int
}

// Option reports whether the entry has the option, given as "rw", or as
// a prefix ending in '=' or a NetBSD-style flag ("-m", "mode=") whose
// value is then returned.
func (e FstabEntry) Option(name string) (string, bool) {
	for _, o := range e.Options {
		if o == name {
			return "", true
		}
		if (strings.HasSuffix(name, "=") || strings.HasPrefix(name, "-")) && strings.HasPrefix(o, name) {
			return strings.TrimSpace(o[len(name):]), true
		}
	}
	return "", false
}

// ParseFstabLine parses one line of /etc/fstab. It returns ok=false for
// blank and comment lines. Fields are separated by blanks; at least the
// first three are required; octal escapes (\040) are decoded.
func ParseFstabLine(s string) (e FstabEntry, ok bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" || t[0] == '#' {
		return e, false, nil
	}
	f := kernelFields(t)
	if len(f) < 3 {
		return e, false, fmt.Errorf("fstab: %q: want at least device, mount point and type", t)
	}
	e = FstabEntry{Spec: unescapeOctal(f[0]), File: unescapeOctal(f[1]), VFSType: f[2]}
	if len(f) > 3 {
		e.Options = strings.Split(f[3], ",")
	}
	if len(f) > 4 {
		if e.Freq, err = strconv.Atoi(f[4]); err != nil {
			return FstabEntry{}, false, fmt.Errorf("fstab: %q: bad dump frequency %q", t, f[4])
		}
	}
	if len(f) > 5 {
		if e.PassNo, err = strconv.Atoi(f[5]); err != nil {
			return FstabEntry{}, false, fmt.Errorf("fstab: %q: bad pass number %q", t, f[5])
		}
	}
	return e, true, nil
}

// unescapeOctal decodes the \NNN escapes the kernel and getmntent use for
// blanks and backslashes in paths; other text is kept.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// ParseLoginDefs parses /etc/login.defs (login.defs(5)): "NAME VALUE"
// lines, '#' comments, values optionally in double quotes. Later lines
// override earlier ones.
func ParseLoginDefs(data []byte) map[string]string {
	defs := make(map[string]string)
	for line := range strings.SplitSeq(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(strings.ReplaceAll(t, "\t", " "), " ")
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		defs[k] = v
	}
	return defs
}

// DefaultSysUIDMax is the highest system-user UID when login.defs says
// nothing: the value systemd and shadow-utils are built with on common
// distributions.
const DefaultSysUIDMax = 999

// SysUIDMax returns the highest UID of a system user from parsed
// login.defs: SYS_UID_MAX, else UID_MIN-1, else [DefaultSysUIDMax], and
// says where the number came from. Numbers may be decimal, 0x-hex or
// 0-octal, as shadow-utils reads them.
func SysUIDMax(defs map[string]string) (max uint32, source string) {
	if v, ok := defs["SYS_UID_MAX"]; ok {
		if n, err := strconv.ParseUint(v, 0, 32); err == nil {
			return uint32(n), "SYS_UID_MAX in /etc/login.defs"
		}
	}
	if v, ok := defs["UID_MIN"]; ok {
		if n, err := strconv.ParseUint(v, 0, 32); err == nil && n > 0 {
			return uint32(n - 1), "UID_MIN-1 from /etc/login.defs"
		}
	}
	return DefaultSysUIDMax, "default"
}

// kernelFields splits a line of mountinfo or fstab at spaces and tabs, the
// only blanks those files use: the kernel writes a space, tab, newline or
// backslash inside a field as an octal escape, and every other byte as it
// is, so a path holding U+00A0 or U+0085 (which strings.Fields takes for
// blanks) stays one field.
func kernelFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}
