package doctor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const day = 24 * time.Hour

func TestParseTimeSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		inf  bool
		bad  bool
	}{
		{in: "10d", want: 10 * day},
		{in: "1w", want: 7 * day},
		{in: "30min", want: 30 * time.Minute},
		{in: "30m", want: 30 * time.Minute},
		{in: "2M", want: 2 * 2629800 * time.Second},
		{in: "90", want: 90 * time.Second},
		{in: "0", want: 0},
		{in: "1h 30min", want: 90 * time.Minute},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: " 5 days ", want: 5 * day},
		{in: "2weeks", want: 14 * day},
		{in: "1y", want: 31557600 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "3us", want: 3 * time.Microsecond},
		{in: "3µs", want: 3 * time.Microsecond},
		{in: "1hr", want: time.Hour},
		{in: "1 sec 1 msec", want: time.Second + time.Millisecond},
		{in: "infinity", inf: true},
		{in: "100000y", want: maxSpan},
		{in: "99999999999999999999999999999d", want: maxSpan},
		{in: "", bad: true},
		{in: "-", bad: true},
		{in: "-5d", bad: true},
		{in: "5 -1d", bad: true},
		{in: "d", bad: true},
		{in: "10mon", bad: true},
		{in: "10 fortnights", bad: true},
		{in: ".", bad: true},
	}
	for _, tt := range tests {
		d, inf, err := ParseTimeSpan(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseTimeSpan(%q) = %v, want an error", tt.in, d)
			}
			continue
		}
		if err != nil || d != tt.want || inf != tt.inf {
			t.Errorf("ParseTimeSpan(%q) = %v, %v, %v; want %v, %v", tt.in, d, inf, err, tt.want, tt.inf)
		}
	}
}

func FuzzParseTimeSpan(f *testing.F) {
	for _, s := range []string{"10d", "1w", "30min", "1h 30min", "1d12h", "1.5d", "90", "infinity", "-1", "1y 2M 3w 4d 5h 6min 7s 8ms 9us", "0", "~1d", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, inf, err := ParseTimeSpan(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseTimeSpan(%q) = %v, negative", s, d)
		}
		if inf {
			return
		}
		// Appending a zero component changes nothing.
		d2, _, err := ParseTimeSpan(s + " 0s")
		if err != nil || d2 != d {
			t.Fatalf("ParseTimeSpan(%q + \" 0s\") = %v, %v; want %v", s, d2, err, d)
		}
		// A whole number of seconds formatted by formatSpan parses back.
		if d%time.Second == 0 && d < 100*365*day {
			back, _, err := ParseTimeSpan(formatSpan(d))
			if err != nil || back != d {
				t.Fatalf("formatSpan(%v) = %q parses to %v, %v", d, formatSpan(d), back, err)
			}
		}
	})
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"1", "yes", "YES", "y", "true", "True", "t", "on", "ON"} {
		if v, err := ParseBool(s); err != nil || !v {
			t.Errorf("ParseBool(%q) = %v, %v; want true", s, v, err)
		}
	}
	for _, s := range []string{"0", "no", "No", "n", "false", "f", "off", "OFF"} {
		if v, err := ParseBool(s); err != nil || v {
			t.Errorf("ParseBool(%q) = %v, %v; want false", s, v, err)
		}
	}
	for _, s := range []string{"", "maybe", "yes please", " yes", "2", "nope"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q): want an error", s)
		}
	}
}

func TestParseSystemdConfDebian(t *testing.T) {
	as, probs := ParseSystemdConf(readTestdata(t, "logind/debian12-logind.conf"))
	if len(as) != 0 || len(probs) != 0 {
		t.Fatalf("Debian's logind.conf has only comments; got %v, %v", as, probs)
	}
	as, probs = ParseSystemdConf(readTestdata(t, "logind/removeipc-no.conf"))
	if len(probs) != 0 || len(as) != 1 || as[0] != (ConfAssignment{Section: "Login", Key: "RemoveIPC", Value: "no", Line: 5}) {
		t.Fatalf("removeipc-no.conf: %+v, %v", as, probs)
	}
}

func TestParseSystemdConfTricky(t *testing.T) {
	as, probs := ParseSystemdConf(readTestdata(t, "logind/tricky.conf"))
	want := []ConfAssignment{
		{Section: "Journal", Key: "RemoveIPC", Value: "no", Line: 4},
		{Section: "Login", Key: "KillUserProcesses", Value: "no", Line: 8},
		{Section: "Login", Key: "RemoveIPC", Value: "maybe", Line: 9},
	}
	if len(as) != len(want) {
		t.Fatalf("assignments = %+v, want %+v", as, want)
	}
	for i := range want {
		if as[i] != want[i] {
			t.Errorf("assignment %d = %+v, want %+v", i, as[i], want[i])
		}
	}
	// Line 2 outside a section, line 10 without '=', line 11 a broken
	// header that stops systemd: the "Off" at the end is never read.
	var lines []int
	fatal := 0
	for _, p := range probs {
		lines = append(lines, p.Line)
		if p.Fatal {
			fatal++
		}
	}
	if got := fmtInts(lines); got != "2 10 11" {
		t.Errorf("problem lines = %v, want [2 10 11]", lines)
	}
	if fatal != 1 || !probs[len(probs)-1].Fatal {
		t.Errorf("want exactly one fatal problem, last: %v", probs)
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func TestParseSystemdConfContinuation(t *testing.T) {
	in := "[Login]\nA=one \\\n# comment inside\n  two\nB=three\\\\\nC=x \\ \nD=end\\"
	as, probs := ParseSystemdConf([]byte(in))
	got := map[string]string{}
	for _, a := range as {
		got[a.Key] = a.Value
	}
	if got["A"] != "one    two" {
		t.Errorf("A = %q, want the continued value", got["A"])
	}
	if got["B"] != `three\\` {
		t.Errorf("B = %q: an escaped backslash does not continue", got["B"])
	}
	if got["C"] != `x \` {
		t.Errorf("C = %q: a backslash followed by a blank does not continue", got["C"])
	}
	if got["D"] != "end" {
		t.Errorf("D = %q: a continuation at end of file still counts", got["D"])
	}
	if len(probs) != 0 {
		t.Errorf("problems: %v", probs)
	}
}

// ws is systemd's WHITESPACE: what it strips around keys and values.
const ws = " \t\n\r"

func FuzzParseSystemdConf(f *testing.F) {
	f.Add(readTestdata(f, "logind/debian12-logind.conf"))
	f.Add(readTestdata(f, "logind/tricky.conf"))
	f.Add(readTestdata(f, "logind/removeipc-no.conf"))
	f.Add([]byte("[Login]\nRemoveIPC=no\\\n\n"))
	f.Add([]byte("\xef\xbb\xbf[Login]\r\nRemoveIPC = yes\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, probs := ParseSystemdConf(data)
		lines := strings.Count(string(data), "\n") + 1
		for _, a := range as {
			if a.Section == "" || a.Key == "" || strings.Trim(a.Key, ws) != a.Key || strings.Contains(a.Key, "=") {
				t.Fatalf("bad assignment %+v", a)
			}
			if strings.Trim(a.Value, ws) != a.Value {
				t.Fatalf("value not trimmed: %+v", a)
			}
			if a.Line < 1 || a.Line > lines {
				t.Fatalf("line %d out of 1..%d", a.Line, lines)
			}
		}
		for i, p := range probs {
			if p.Fatal && i != len(probs)-1 {
				t.Fatalf("parsing went on after a fatal problem: %v", probs)
			}
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem line %d out of 1..%d", p.Line, lines)
			}
		}
	})
}

func TestParseTmpfilesLine(t *testing.T) {
	tests := []struct {
		in   string
		want TmpfilesLine
		skip bool
		bad  bool
	}{
		{in: "q /tmp 1777 root root 10d", want: TmpfilesLine{Type: 'q', Path: "/tmp", Mode: "1777", User: "root", Group: "root", Age: "10d"}},
		{in: "D! /tmp/.X11-unix 1777 root root 10d", want: TmpfilesLine{Type: 'D', Modifiers: "!", Path: "/tmp/.X11-unix", Mode: "1777", User: "root", Group: "root", Age: "10d"}},
		{in: "x /tmp/systemd-private-%b-*", want: TmpfilesLine{Type: 'x', Path: "/tmp/systemd-private-%b-*"}},
		{in: "L+ /etc/mtab   -    -    -    -  ../proc/self/mounts", want: TmpfilesLine{Type: 'L', Modifiers: "+", Path: "/etc/mtab", Mode: "-", User: "-", Group: "-", Age: "-", Argument: "../proc/self/mounts"}},
		{in: `f "/tmp/with space" 0644 - - - hello world`, want: TmpfilesLine{Type: 'f', Path: "/tmp/with space", Mode: "0644", User: "-", Group: "-", Age: "-", Argument: "hello world"}},
		{in: `e /dev/shm - - - ~1d`, want: TmpfilesLine{Type: 'e', Path: "/dev/shm", Mode: "-", User: "-", Group: "-", Age: "~1d"}},
		{in: `d /run/a\ b`, want: TmpfilesLine{Type: 'd', Path: "/run/a b"}},
		{in: "   ", skip: true},
		{in: "# q /tmp 1777 root root 10d", skip: true},
		{in: "q", bad: true},
		{in: "y /tmp", bad: true},
		{in: "q* /tmp", bad: true},
		{in: "q tmp", bad: true},
		{in: `q "/tmp`, bad: true},
		{in: `"" /tmp`, bad: true},
		{in: `q /tmp\`, bad: true},
	}
	for _, tt := range tests {
		got, ok, err := ParseTmpfilesLine(tt.in)
		switch {
		case tt.bad:
			if err == nil {
				t.Errorf("ParseTmpfilesLine(%q) = %+v, want an error", tt.in, got)
			}
		case tt.skip:
			if ok || err != nil {
				t.Errorf("ParseTmpfilesLine(%q) = %v, %v; want a skipped line", tt.in, ok, err)
			}
		default:
			if !ok || err != nil || got != tt.want {
				t.Errorf("ParseTmpfilesLine(%q) = %+v, %v, %v; want %+v", tt.in, got, ok, err, tt.want)
			}
		}
	}
}

// quoteTmpfiles quotes a word so that ParseTmpfilesLine reads it back.
func quoteTmpfiles(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzParseTmpfilesLine(f *testing.F) {
	for _, name := range []string{"tmpfiles/upstream-tmp.conf", "tmpfiles/x11.conf", "tmpfiles/systemd-tmp.conf", "tmpfiles/debian.conf", "tmpfiles/rhel7-tmp.conf", "tmpfiles/devshm-aging.conf"} {
		for l := range strings.SplitSeq(string(readTestdata(f, name)), "\n") {
			f.Add(l)
		}
	}
	f.Add(`f "/a b" - - - ~am:1d arg`)
	f.Fuzz(func(t *testing.T, s string) {
		l, ok, err := ParseTmpfilesLine(s)
		if err != nil || !ok {
			return
		}
		if strings.IndexByte(tmpfilesTypes, l.Type) < 0 || l.Path == "" || (l.Path[0] != '/' && l.Path[0] != '%') {
			t.Fatalf("bad line %+v", l)
		}
		for _, c := range l.Modifiers {
			if !strings.ContainsRune(tmpfilesModifiers, c) {
				t.Fatalf("bad modifier in %+v", l)
			}
		}
		// The fields survive being written out again.
		if strings.ContainsAny(l.Path+l.Mode+l.User+l.Group+l.Age, "\n\r") {
			return
		}
		re := string(l.Type) + l.Modifiers + " " + quoteTmpfiles(l.Path)
		for _, w := range []string{l.Mode, l.User, l.Group, l.Age} {
			if w == "" {
				w = "-"
			}
			re += " " + quoteTmpfiles(w)
		}
		l2, ok, err := ParseTmpfilesLine(re)
		if err != nil || !ok || l2.Path != l.Path || l2.Type != l.Type || l2.Modifiers != l.Modifiers {
			t.Fatalf("%q -> %+v; rewritten %q -> %+v, %v", s, l, re, l2, err)
		}
		_, _ = ParseAge(l.Age)
	})
}

func TestParseAge(t *testing.T) {
	tests := []struct {
		in   string
		want Age
		bad  bool
	}{
		{in: "-", want: Age{}},
		{in: "", want: Age{}},
		{in: "10d", want: Age{Set: true, Dur: 10 * day}},
		{in: "~1w", want: Age{Set: true, Dur: 7 * day, SecondLevel: true}},
		{in: "am:30min", want: Age{Set: true, Dur: 30 * time.Minute, By: "am"}},
		{in: "~cM:2h", want: Age{Set: true, Dur: 2 * time.Hour, By: "cM", SecondLevel: true}},
		{in: "0", want: Age{Set: true}},
		{in: "infinity", want: Age{Set: true, Infinite: true}},
		{in: "xz:1d", bad: true},
		{in: ":1d", bad: true},
		{in: "~", bad: true},
		{in: "ten days", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseAge(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseAge(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAge(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParseAge(got.String()); err != nil || back != got {
			t.Errorf("ParseAge(%q).String() = %q parses to %+v, %v", tt.in, got.String(), back, err)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"-", "10d", "~1w", "am:30min", "~cM:2h", "infinity", "0", "a:", "~~1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAge(s)
		if err != nil {
			return
		}
		if a.Dur < 0 || (!a.Set && (a.Dur != 0 || a.SecondLevel || a.By != "")) {
			t.Fatalf("ParseAge(%q) = %+v", s, a)
		}
		if strings.Trim(a.By, "abcmABCM") != "" {
			t.Fatalf("ParseAge(%q): selector %q", s, a.By)
		}
	})
}

func TestParseMountinfoLine(t *testing.T) {
	var shm []Mount
	for l := range strings.SplitSeq(strings.TrimSpace(string(readTestdata(t, "mountinfo/docker.mountinfo"))), "\n") {
		m, err := ParseMountinfoLine(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if m.MountPoint == "/dev/shm" {
			shm = append(shm, m)
		}
		if m.ID == 595 && m.Root != "/home/alice/my project" {
			t.Errorf("octal escape not decoded: %q", m.Root)
		}
		if m.ID == 585 && (m.FSType != "overlay" || m.Source != "overlay" || !strings.HasPrefix(m.SuperOptions, "rw,lowerdir=")) {
			t.Errorf("optional field not skipped: %+v", m)
		}
	}
	if len(shm) != 1 || shm[0].FSType != "tmpfs" || shm[0].Source != "shm" {
		t.Fatalf("/dev/shm mounts: %+v", shm)
	}
	if v, ok := shm[0].Option("size"); !ok || v != "65536k" {
		t.Errorf("size option = %q, %v", v, ok)
	}
	if n, ok := parseTmpfsSize("65536k"); !ok || n != 64<<20 {
		t.Errorf("parseTmpfsSize(65536k) = %d, %v", n, ok)
	}
	if _, ok := shm[0].Option("nosuid"); !ok {
		t.Errorf("mount option nosuid not found")
	}
	for _, bad := range []string{"", "1 2 3", "a 1 0:1 / /x rw - tmpfs t rw", "1 1 0:1 / /x rw master:1 tmpfs t rw", "1 1 0:1 / /x rw -"} {
		if m, err := ParseMountinfoLine(bad); err == nil {
			t.Errorf("ParseMountinfoLine(%q) = %+v, want an error", bad, m)
		}
	}
	// The VM's own table parses too.
	for l := range strings.SplitSeq(strings.TrimSpace(string(readTestdata(t, "mountinfo/vm.mountinfo"))), "\n") {
		if _, err := ParseMountinfoLine(l); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
}

func FuzzParseMountinfoLine(f *testing.F) {
	for _, name := range []string{"mountinfo/docker.mountinfo", "mountinfo/vm.mountinfo"} {
		for l := range strings.SplitSeq(string(readTestdata(f, name)), "\n") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMountinfoLine(s)
		if err != nil {
			return
		}
		if m.MountPoint == "" || m.FSType == "" || m.FSType == "-" {
			t.Fatalf("ParseMountinfoLine(%q) = %+v", s, m)
		}
		_, _ = m.Option("size")
		_, _ = parseTmpfsSize(m.SuperOptions)
	})
}

func TestParseFstabLine(t *testing.T) {
	var entries []FstabEntry
	for l := range strings.SplitSeq(string(readTestdata(t, "fstab/netbsd-sysinst.fstab")), "\n") {
		e, ok, err := ParseFstabLine(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if ok {
			entries = append(entries, e)
		}
	}
	if len(entries) != 7 {
		t.Fatalf("got %d entries, want 7: %+v", len(entries), entries)
	}
	shm := entries[5]
	if shm.Spec != "tmpfs" || shm.File != "/var/shm" || shm.VFSType != "tmpfs" {
		t.Fatalf("/var/shm entry = %+v", shm)
	}
	if v, ok := shm.Option("-m"); !ok || v != "1777" {
		t.Errorf("-m = %q, %v", v, ok)
	}
	if v, ok := shm.Option("-s"); !ok || v != "ram%25" {
		t.Errorf("-s = %q, %v", v, ok)
	}
	if _, ok := shm.Option("rw"); !ok {
		t.Errorf("rw not found")
	}
	if entries[0].Freq != 1 || entries[0].PassNo != 1 {
		t.Errorf("root entry = %+v", entries[0])
	}
	linux := strings.Split(string(readTestdata(t, "fstab/linux.fstab")), "\n")
	e, ok, err := ParseFstabLine(linux[6])
	if err != nil || !ok || e.Spec != "/srv/my share" || e.File != "/mnt/share" {
		t.Errorf("escaped entry = %+v, %v, %v", e, ok, err)
	}
	if v, ok := mustFstab(t, linux[5]).Option("size="); !ok || v != "2g" {
		t.Errorf("size= = %q, %v", v, ok)
	}
	for _, bad := range []string{"tmpfs /var/shm", "a b c d x", "a b c d 0 y"} {
		if e, _, err := ParseFstabLine(bad); err == nil {
			t.Errorf("ParseFstabLine(%q) = %+v, want an error", bad, e)
		}
	}
}

func mustFstab(t *testing.T, l string) FstabEntry {
	t.Helper()
	e, ok, err := ParseFstabLine(l)
	if err != nil || !ok {
		t.Fatalf("ParseFstabLine(%q): %v, %v", l, ok, err)
	}
	return e
}

func FuzzParseFstabLine(f *testing.F) {
	for _, name := range []string{"fstab/netbsd-sysinst.fstab", "fstab/netbsd-small-memory.fstab", "fstab/linux.fstab"} {
		for l := range strings.SplitSeq(string(readTestdata(f, name)), "\n") {
			f.Add(l)
		}
	}
	f.Add(`a\ b\04 \1 c`)
	f.Fuzz(func(t *testing.T, s string) {
		e, ok, err := ParseFstabLine(s)
		if err != nil || !ok {
			return
		}
		if e.VFSType == "" || len(strings.Fields(s)) < 3 {
			t.Fatalf("ParseFstabLine(%q) = %+v", s, e)
		}
		_, _ = e.Option("-m")
	})
}

func TestLoginDefs(t *testing.T) {
	defs := ParseLoginDefs(readTestdata(t, "logindefs/debian12-login.defs"))
	if defs["UID_MIN"] != "1000" || defs["ENCRYPT_METHOD"] != "SHA512" {
		t.Errorf("UID_MIN = %q, ENCRYPT_METHOD = %q", defs["UID_MIN"], defs["ENCRYPT_METHOD"])
	}
	if _, ok := defs["SYS_UID_MAX"]; ok {
		t.Errorf("a commented-out SYS_UID_MAX was read")
	}
	if n, src := SysUIDMax(defs); n != 999 || !strings.Contains(src, "UID_MIN") {
		t.Errorf("Debian: SysUIDMax = %d (%s), want 999 from UID_MIN", n, src)
	}
	tests := []struct {
		in   string
		want uint32
	}{
		{"SYS_UID_MAX 499\nUID_MIN 500\n", 499},
		{"SYS_UID_MAX\t0x3e7\n", 999},
		{"SYS_UID_MAX 0764\n", 500}, // octal, as shadow-utils reads it
		{"UID_MIN 1000\nSYS_UID_MAX 200\nSYS_UID_MAX 300\n", 300},
		{"SYS_UID_MAX \"201\"\n", 201},
		{"SYS_UID_MAX junk\nUID_MIN 600\n", 599},
		{"UID_MIN 0\n", DefaultSysUIDMax},
		{"", DefaultSysUIDMax},
	}
	for _, tt := range tests {
		if n, _ := SysUIDMax(ParseLoginDefs([]byte(tt.in))); n != tt.want {
			t.Errorf("SysUIDMax(%q) = %d, want %d", tt.in, n, tt.want)
		}
	}
}

func FuzzParseLoginDefs(f *testing.F) {
	f.Add(readTestdata(f, "logindefs/debian12-login.defs"))
	f.Add([]byte("SYS_UID_MAX 499\n"))
	f.Add([]byte("UID_MIN \"1000\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defs := ParseLoginDefs(data)
		for k := range defs {
			if k == "" || strings.ContainsAny(k, " \t\n") || strings.HasPrefix(k, "#") {
				t.Fatalf("bad key %q", k)
			}
		}
		n, _ := SysUIDMax(defs)
		if v, ok := defs["SYS_UID_MAX"]; ok {
			// Plain decimals only: like shadow-utils, a leading 0 means octal.
			if m, err := strconv.ParseUint(v, 10, 32); err == nil && !strings.HasPrefix(v, "0") && uint64(n) != m {
				t.Fatalf("SYS_UID_MAX %q gave %d", v, n)
			}
		}
	})
}

func TestParseDaily(t *testing.T) {
	tests := []struct {
		file      string
		rules     int
		test      string
		days      int
		shm, sem  bool
		firstLine int
	}{
		{"openbsd-1.101", 1, "atime", 7, true, true, 50},
		{"openbsd-1.95", 1, "atime", 7, false, false, 50},
		{"openbsd-2009-style", 1, "atime", 3, false, false, 50},
		{"openbsd-commented", 0, "", 0, false, false, 0},
		{"daily.local-aggressive", 1, "mtime", 2, false, false, 3},
	}
	for _, tt := range tests {
		rules, err := ParseDaily(readTestdata(t, "daily/"+tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if len(rules) != tt.rules {
			t.Errorf("%s: %d rules, want %d: %+v", tt.file, len(rules), tt.rules, rules)
			continue
		}
		if tt.rules == 0 {
			continue
		}
		r := rules[0]
		if r.Test != tt.test || r.Days != tt.days || r.SparesShm != tt.shm || r.SparesSem != tt.sem || r.Line != tt.firstLine {
			t.Errorf("%s: %+v, want %s +%d spares %v/%v at line %d", tt.file, r, tt.test, tt.days, tt.shm, tt.sem, tt.firstLine)
		}
	}
}

func TestParseDailyForms(t *testing.T) {
	tests := []struct {
		name, script string
		rules        int
		shm, sem     bool
	}{
		{"no cd: find . is not /tmp", "find . -type f -atime +7 -delete\n", 0, false, false},
		{"explicit path", "find /tmp -type f -atime +7 -delete\n", 1, false, false},
		{"cd elsewhere after /tmp", "cd /tmp; cd /var/tmp && find . -type f -atime +7 -delete\n", 0, false, false},
		{"relative cd", "cd / && cd tmp && find -x . -atime +1 -delete\n", 1, false, false},
		{"directories only", "cd /tmp && find . -type d -mtime +1 -delete\n", 0, false, false},
		{"no deletion", "cd /tmp && find . -type f -atime +7 -print\n", 0, false, false},
		{"no age", "cd /tmp && find . -type f -delete\n", 0, false, false},
		{"exec rm", "cd /tmp && find . -atime +5 -exec rm -f {} \\;\n", 1, false, false},
		{"exec other", "cd /tmp && find . -atime +5 -exec ls {} \\;\n", 0, false, false},
		{"shm only", `cd /tmp && find . -type f ! -name '*.shm' -atime +7 -delete` + "\n", 1, true, false},
		{"-not -path", `cd /tmp && find . -type f -not -path "./*.s?m" -atime +7 -delete` + "\n", 1, true, true},
		{"pruned", `cd /tmp && find . \( -name '*.shm' -o -name '*.sem' \) -prune -o -type f -atime +7 -delete` + "\n", 1, true, true},
		{"name filter", `find /tmp -name 'core.*' -atime +7 -delete` + "\n", 1, true, true},
		{"in a comment", "# cd /tmp && find . -atime +7 -delete\n", 0, false, false},
		{"quoted hash", "cd /tmp && find . -atime +7 -delete # '\n", 1, false, false},
		{"continuation in middle of word", "cd /tmp && find . -at\\\nime +7 -del\\\nete\n", 1, false, false},
		{"redirect target", "cd /tmp && find . -atime +7 -delete 2> /dev/null\n", 1, false, false},
	}
	for _, tt := range tests {
		rules, err := ParseDaily([]byte(tt.script))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(rules) != tt.rules {
			t.Errorf("%s: %d rules, want %d: %+v", tt.name, len(rules), tt.rules, rules)
			continue
		}
		if tt.rules > 0 && (rules[0].SparesShm != tt.shm || rules[0].SparesSem != tt.sem) {
			t.Errorf("%s: spares shm %v sem %v, want %v %v", tt.name, rules[0].SparesShm, rules[0].SparesSem, tt.shm, tt.sem)
		}
	}
	for _, bad := range []string{"echo 'unterminated\n", "echo \"unterminated\n"} {
		if _, err := ParseDaily([]byte(bad)); err == nil {
			t.Errorf("ParseDaily(%q): want an error", bad)
		}
	}
}

func FuzzParseDaily(f *testing.F) {
	for _, name := range []string{"openbsd-1.101", "openbsd-1.95", "openbsd-2009-style", "openbsd-commented", "daily.local-aggressive"} {
		f.Add(readTestdata(f, "daily/"+name))
	}
	f.Add([]byte("cd /tmp && find . ! -path './*.s[eh]m' -atime +7 -delete 2>&1 | cat &"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseDaily(data)
		if err != nil {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, r := range rules {
			if r.Days < 0 || (r.Test != "atime" && r.Test != "mtime" && r.Test != "ctime") || r.Line < 1 || r.Line > lines || r.Command == "" {
				t.Fatalf("bad rule %+v", r)
			}
		}
	})
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"./*.s[eh]m", sampleShm, true},
		{"./*.s[eh]m", sampleSem, true},
		{"./*.s[eh]m", "./x.sum", false},
		{"*.shm", "./a/b.shm", true}, // '*' crosses '/' as in find -path
		{"./ssh-*", "./ssh-abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[!a]b", "bb", true},
		{"[^a]b", "ab", false},
		{"[a-c]", "b", true},
		{"[]]", "]", true},
		{"[a", "[a", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{`a\`, `a\`, true},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func FuzzMatchGlob(f *testing.F) {
	f.Add("./*.s[eh]m", sampleShm)
	f.Add("[!a-", "b")
	f.Add(`\`, `\`)
	f.Fuzz(func(t *testing.T, pattern, name string) {
		_ = matchGlob(pattern, name)
		if !matchGlob("*", name) {
			t.Fatalf("* does not match %q", name)
		}
		var esc strings.Builder
		for i := 0; i < len(name); i++ {
			esc.WriteByte('\\')
			esc.WriteByte(name[i])
		}
		if !matchGlob(esc.String(), name) {
			t.Fatalf("escaped %q does not match itself", name)
		}
		if !matchGlob(esc.String()+"*", name+pattern) {
			t.Fatalf("escaped prefix %q* does not match %q", name, name+pattern)
		}
	})
}
