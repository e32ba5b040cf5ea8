package dialect

import (
	"errors"
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Hash vectors, computed with the shell, independently of this package:
//
//	printf '%s' "$name" | sha256sum
//	printf 'a%.0s' $(seq 251) | md5sum | cut -d' ' -f1 |
//	    sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/g'
//
// The sed swaps the bytes of each 32-bit word, as illumos' %.8x of native
// little-endian words does. TestHashesMatchTools recomputes such vectors
// with the same tools for random names.
const (
	sha256Slashx  = "b3d1db318671a024a7e4b433389f8820d6ca466e2cf700afc29f37ed64f2fa0d" // "/x"
	sha256x       = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" // "x"
	sha256Empty   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // ""
	sha256SlashAB = "662b7b62a798bb2d53e67cad9778e12e48297c79eae98d3aae7197be825d768f" // "/a/b"
	md5LE251a     = "07b1f5213630a3cd41190a59b67ffd9a"                                 // 251 × "a"
	md5LE255a     = "9a24bc46d6c58f5ac412cf22e03a462c"                                 // 255 × "a"
)

var allOS = []string{"linux", "openbsd", "netbsd", "dragonfly", "solaris", "freebsd", "darwin"}

func mustForOS(t testing.TB, goos string) *Dialect {
	t.Helper()
	d, err := ForOS(goos)
	if err != nil {
		t.Fatalf("ForOS(%q): %v", goos, err)
	}
	return d
}

func TestForOS(t *testing.T) {
	for _, tc := range []struct {
		goos, os, dir string
		file          bool
	}{
		{"linux", "linux", "/dev/shm", true},
		{"openbsd", "openbsd", "/tmp", true},
		{"netbsd", "netbsd", "/var/shm", true},
		{"dragonfly", "dragonfly", "/var/run/shm", true},
		{"solaris", "solaris", "/tmp", true},
		{"illumos", "solaris", "/tmp", true},
		{"freebsd", "freebsd", "", false},
		{"darwin", "darwin", "", false},
	} {
		d := mustForOS(t, tc.goos)
		if d.OS != tc.os || d.Dir != tc.dir || d.File() != tc.file {
			t.Errorf("ForOS(%q) = {OS %q, Dir %q, File %v}, want {%q, %q, %v}", tc.goos, d.OS, d.Dir, d.File(), tc.os, tc.dir, tc.file)
		}
	}
	for _, goos := range []string{"windows", "plan9", "js", "wasip1", "aix", "", "Linux"} {
		d, err := ForOS(goos)
		if d != nil || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("ForOS(%q) = %v, %v; want nil and an error wrapping ErrUnsupported", goos, d, err)
		} else if !strings.Contains(err.Error(), "\""+goos+"\"") {
			t.Errorf("ForOS(%q) error %q does not name the OS", goos, err)
		}
	}
}

func TestRooted(t *testing.T) {
	d := mustForOS(t, "dragonfly")
	r := d.Rooted("/some/dir/")
	if r.Dir != "/some/dir" || r.fallback != "" || r.OS != "dragonfly" {
		t.Errorf("Rooted: Dir %q fallback %q OS %q", r.Dir, r.fallback, r.OS)
	}
	if d.Dir != "/var/run/shm" || d.fallback != "/tmp" {
		t.Errorf("Rooted modified the original: Dir %q fallback %q", d.Dir, d.fallback)
	}
	p, err := r.Path("/x")
	if err != nil || p != "/some/dir/x" {
		t.Errorf("Rooted Path(/x) = %q, %v", p, err)
	}
	for _, goos := range []string{"freebsd", "darwin"} {
		k := mustForOS(t, goos).Rooted("/x")
		if k.File() || k.Dir != "" {
			t.Errorf("%s.Rooted made a file dialect: Dir %q", goos, k.Dir)
		}
	}
}

func TestLockRetry(t *testing.T) {
	d := mustForOS(t, "solaris")
	if d.lockTries != 64 || d.lockDelay.Seconds() != 1 {
		t.Errorf("solaris lock: %d tries, %v apart; want libc's 64, 1s", d.lockTries, d.lockDelay)
	}
	c := d.LockRetry(3, 0)
	if c.lockTries != 3 || c.lockDelay != 0 || d.lockTries != 64 {
		t.Errorf("LockRetry(3, 0): copy %d/%v, original %d", c.lockTries, c.lockDelay, d.lockTries)
	}
	for _, bad := range []func(){func() { d.LockRetry(0, 0) }, func() { d.LockRetry(1, -1) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("LockRetry with bad arguments did not panic")
				}
			}()
			bad()
		}()
	}
}

// nameCase is one row of the name tables: the errno of Check (0: valid),
// of CheckUnlink, and the path relative to Dir for file dialects.
type nameCase struct {
	name   string
	check  syscall.Errno
	unlink syscall.Errno
	rel    string
}

var (
	a247 = strings.Repeat("a", 247)
	a250 = strings.Repeat("a", 250)
	a251 = strings.Repeat("a", 251)
	a255 = strings.Repeat("a", 255)
	a256 = strings.Repeat("a", 256)
)

const (
	einval = syscall.EINVAL
	enoent = syscall.ENOENT
	etoo   = syscall.ENAMETOOLONG
)

var nameCases = map[string][]nameCase{
	"linux": {
		{"/x", 0, 0, "x"},
		{"x", 0, 0, "x"},
		{"///x", 0, 0, "x"},
		{"/...", 0, 0, "..."},
		{"/.x", 0, 0, ".x"},
		{"/" + a255, 0, 0, a255},
		{"", einval, enoent, ""},
		{"/", einval, enoent, ""},
		{"///", einval, enoent, ""},
		{"/a/b", einval, enoent, ""},
		{"x/", einval, enoent, ""},
		{"/.", einval, enoent, ""},
		{"/..", einval, enoent, ""},
		{".", einval, enoent, ""},
		{"..", einval, enoent, ""},
		{"/../x", einval, enoent, ""},
		{"/a\x00b", einval, enoent, ""},
		{"/" + a256, etoo, enoent, ""},
		{a256, etoo, enoent, ""},
	},
	"openbsd": {
		{"/x", 0, 0, sha256Slashx + ".shm"},
		{"x", 0, 0, sha256x + ".shm"},
		{"", 0, 0, sha256Empty + ".shm"},
		{"/a/b", 0, 0, sha256SlashAB + ".shm"},
		{"/a/../b", einval, einval, ""},
		{"/..", einval, einval, ""},
		{"..", einval, einval, ""},
		{"/.", einval, einval, ""},
		{"a/./b", einval, einval, ""},
		{"../x", einval, einval, ""},
		{"/x\x00", einval, einval, ""},
	},
	"netbsd": {
		{"/x", 0, 0, ".shmobj_x"},
		{"/", 0, 0, ".shmobj_"},
		{"/...", 0, 0, ".shmobj_..."},
		{"/" + a247, 0, 0, ".shmobj_" + a247},
		{"/" + a247 + "a", etoo, etoo, ""},
		{"x", einval, einval, ""},
		{"", einval, einval, ""},
		{"//x", einval, einval, ""},
		{"/a/b", einval, einval, ""},
		{"/x/", einval, einval, ""},
		{"/.", einval, einval, ""},
		{"/..", einval, einval, ""},
		{"/\x00", einval, einval, ""},
	},
	"dragonfly": {
		{"/x", 0, 0, "x"},
		{"x", 0, 0, "x"},
		{"///x", 0, 0, "x"},
		{"/" + a255, 0, 0, a255},
		{"/" + a256, etoo, etoo, ""},
		{"", enoent, enoent, ""},
		{"/", enoent, enoent, ""},
		{"/a/b", einval, einval, ""},
		{"/.", einval, einval, ""},
		{"/..", einval, einval, ""},
		{"..", einval, einval, ""},
		{"/x\x00y", einval, einval, ""},
	},
	"solaris": {
		{"/x", 0, 0, ".SHMDx"},
		{"/", 0, 0, ".SHMD"},
		{"/" + a250, 0, 0, ".SHMD" + a250},
		{"/" + a251, 0, 0, "." + md5LE251a + "/.SHMD/" + a251},
		{"/" + a255, 0, 0, "." + md5LE255a + "/.SHMD/" + a255},
		{"/" + a256, etoo, etoo, ""},
		{"x", einval, einval, ""},
		{"", einval, einval, ""},
		{"//x", einval, einval, ""},
		{"/a/b", einval, einval, ""},
		{"/.", einval, einval, ""},
		{"/..", einval, einval, ""},
		{"/\x00", einval, einval, ""},
	},
	"freebsd": {
		{"/x", 0, 0, ""},
		{"/", 0, 0, ""},
		{"/a/b", 0, 0, ""},
		{"/a//b/", 0, 0, ""},
		{"/" + strings.Repeat("a", 1022), 0, 0, ""},
		{"/" + strings.Repeat("a", 1023), etoo, etoo, ""},
		{strings.Repeat("a", 1024), etoo, etoo, ""},
		{"x", einval, einval, ""},
		{"", einval, einval, ""},
		{"/a/../b", einval, einval, ""},
		{"/.", einval, einval, ""},
		{"/x\x00", einval, einval, ""},
	},
	"darwin": {
		{"/x", 0, 0, ""},
		{"x", 0, 0, ""},
		{"a/b", 0, 0, ""},
		{"/" + strings.Repeat("a", 30), 0, 0, ""},
		{"/" + strings.Repeat("a", 31), etoo, einval, ""},
		{"", einval, einval, ""},
		{"..", einval, einval, ""},
		{"/..", einval, einval, ""},
		{"a/./b", einval, einval, ""},
		{"/\x00", einval, einval, ""},
	},
}

func TestNameTables(t *testing.T) {
	for _, goos := range allOS {
		cases := nameCases[goos]
		if len(cases) == 0 {
			t.Fatalf("no name cases for %s", goos)
		}
		d := mustForOS(t, goos).Rooted("/objdir")
		for _, tc := range cases {
			short := tc.name
			if len(short) > 24 {
				short = fmt.Sprintf("%s…(%d bytes)", short[:16], len(short))
			}
			if got := d.Check(tc.name); !sameErrno(got, tc.check) {
				t.Errorf("%s Check(%q) = %v, want %v", goos, short, got, errnoString(tc.check))
			}
			if got := d.CheckUnlink(tc.name); !sameErrno(got, tc.unlink) {
				t.Errorf("%s CheckUnlink(%q) = %v, want %v", goos, short, got, errnoString(tc.unlink))
			}
			p, err := d.Path(tc.name)
			switch {
			case tc.check != 0:
				if !sameErrno(err, tc.check) || p != "" {
					t.Errorf("%s Path(%q) = %q, %v; want error %v", goos, short, p, err, tc.check)
				}
			case !d.File():
				if !errors.Is(err, errors.ErrUnsupported) || p != "" {
					t.Errorf("%s Path(%q) = %q, %v; want an ErrUnsupported error", goos, short, p, err)
				}
			default:
				if want := "/objdir/" + tc.rel; err != nil || p != want {
					t.Errorf("%s Path(%q) = %q, %v; want %q", goos, short, p, err, want)
				}
			}
		}
	}
}

func sameErrno(err error, want syscall.Errno) bool {
	if want == 0 {
		return err == nil
	}
	e, ok := err.(syscall.Errno)
	return ok && e == want
}

func errnoString(e syscall.Errno) string {
	if e == 0 {
		return "nil"
	}
	return e.Error()
}

func TestDefaultPaths(t *testing.T) {
	for _, tc := range []struct{ goos, name, want string }{
		{"linux", "/x", "/dev/shm/x"},
		{"openbsd", "/x", "/tmp/" + sha256Slashx + ".shm"},
		{"netbsd", "/x", "/var/shm/.shmobj_x"},
		{"solaris", "/x", "/tmp/.SHMDx"},
		{"illumos", "/" + a251, "/tmp/." + md5LE251a + "/.SHMD/" + a251},
	} {
		p, err := mustForOS(t, tc.goos).Path(tc.name)
		if err != nil || p != tc.want {
			t.Errorf("%s Path(%.20q) = %q, %v; want %q", tc.goos, tc.name, p, err, tc.want)
		}
	}
}

func TestSemPath(t *testing.T) {
	d := mustForOS(t, "openbsd")
	p, err := d.SemPath("/x")
	if want := "/tmp/" + sha256Slashx + ".sem"; err != nil || p != want {
		t.Errorf("openbsd SemPath(/x) = %q, %v; want %q", p, err, want)
	}
	if _, err := d.SemPath("/../x"); err != syscall.EINVAL {
		t.Errorf("openbsd SemPath(/../x) error %v, want EINVAL", err)
	}
	if _, err := mustForOS(t, "linux").SemPath("/x"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("linux SemPath error %v, want ErrUnsupported", err)
	}
}

// TestHashesMatchTools checks the openbsd and solaris hashes against
// sha256sum and md5sum run on random names.
func TestHashesMatchTools(t *testing.T) {
	sha, err1 := exec.LookPath("sha256sum")
	md5, err2 := exec.LookPath("md5sum")
	if err1 != nil || err2 != nil {
		t.Skipf("sha256sum or md5sum not found (%v, %v): the pasted vectors in TestNameTables still cover the hashes", err1, err2)
	}
	hexRE := regexp.MustCompile(`^[0-9a-f]+`)
	tool := func(prog, input string) string {
		cmd := exec.Command(prog)
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
		return hexRE.FindString(string(out))
	}
	ob := mustForOS(t, "openbsd").Rooted("/d")
	sol := mustForOS(t, "solaris").Rooted("/d")
	for i := range 8 {
		name := mustForOS(t, "linux").RandomName() + strings.Repeat("z", i*40)
		p, err := ob.Path(name)
		if want := "/d/" + tool(sha, name) + ".shm"; err != nil || p != want {
			t.Errorf("openbsd Path(%q) = %q, %v; want %q", name, p, err, want)
		}
		long := "/" + strings.Repeat(name[1:], 10)[:251+i/2]
		sum := tool(md5, long[1:])
		var le strings.Builder
		for w := 0; w < len(sum); w += 8 {
			g := sum[w : w+8]
			le.WriteString(g[6:8] + g[4:6] + g[2:4] + g[0:2])
		}
		p, err = sol.Path(long)
		if want := "/d/." + le.String() + "/.SHMD/" + long[1:]; err != nil || p != want {
			t.Errorf("solaris Path(%.30q…) = %q, %v; want %q", long, p, err, want)
		}
	}
}

func TestPathStaysInDir(t *testing.T) {
	for _, goos := range allOS {
		d := mustForOS(t, goos).Rooted("/objdir")
		if !d.File() {
			continue
		}
		for _, tc := range nameCases[goos] {
			p, err := d.Path(tc.name)
			if err != nil {
				continue
			}
			if path.Clean(p) != p || !strings.HasPrefix(p, "/objdir/") {
				t.Errorf("%s Path(%.20q) = %q leaves /objdir", goos, tc.name, p)
			}
		}
	}
}
