package dialect

import (
	"errors"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// fuzzDir roots the file dialects in the fuzz targets.
const fuzzDir = "/objdir"

// addNameSeeds adds every table name and a few more as seeds.
func addNameSeeds(f *testing.F) {
	for _, cases := range nameCases {
		for _, tc := range cases {
			f.Add(tc.name)
		}
	}
	for _, s := range []string{"/a/./b", "/./", "/../../etc/passwd", "\x00", "/.\x00", "//..//", "/shm-abc", "/é", "/" + a251 + "/"} {
		f.Add(s)
	}
}

// hasEscape reports a NUL byte or a "." or ".." component: what no
// accepted name may have.
func hasEscape(name string) bool {
	if strings.Contains(name, "\x00") {
		return true
	}
	for _, c := range strings.Split(name, "/") {
		if c == "." || c == ".." {
			return true
		}
	}
	return false
}

// inDir reports whether p lies strictly inside dir, written canonically.
func inDir(p, dir string) bool {
	return path.Clean(p) == p && strings.HasPrefix(p, dir+"/") && !strings.Contains(p, "\x00")
}

// FuzzCheck runs every dialect's Check, CheckUnlink and Path on one name:
// nothing panics, errors are the documented errnos, accepted names never
// carry an escape and their paths stay inside the directory, and a name
// ValidPortable accepts is accepted everywhere.
func FuzzCheck(f *testing.F) {
	addNameSeeds(f)
	f.Fuzz(func(t *testing.T, name string) {
		portable := ValidPortable(name)
		if portable != nil {
			var ne *NameError
			if !errors.As(portable, &ne) || !errors.Is(portable, fs.ErrInvalid) || ne.Rule == "" {
				t.Fatalf("ValidPortable(%q) = %v: not a *NameError matching fs.ErrInvalid", name, portable)
			}
		}
		for _, goos := range allOS {
			d := mustForOS(t, goos).Rooted(fuzzDir)
			err := d.Check(name)
			uerr := d.CheckUnlink(name)
			if (err == nil) != (uerr == nil) {
				t.Fatalf("%s: Check(%q) = %v but CheckUnlink = %v", goos, name, err, uerr)
			}
			if portable == nil && err != nil {
				t.Fatalf("%s rejects portable name %q: %v", goos, name, err)
			}
			p, perr := d.Path(name)
			if err != nil {
				switch err {
				case syscall.EINVAL, syscall.ENAMETOOLONG, syscall.ENOENT:
				default:
					t.Fatalf("%s: Check(%q) = %v (%T), not a documented errno", goos, name, err, err)
				}
				if perr != err || p != "" {
					t.Fatalf("%s: Path(%q) = %q, %v; Check said %v", goos, name, p, perr, err)
				}
				continue
			}
			if hasEscape(name) {
				t.Fatalf("%s accepts %q, which has a NUL or a dot component", goos, name)
			}
			if !d.File() {
				if !errors.Is(perr, errors.ErrUnsupported) {
					t.Fatalf("%s: Path(%q) = %q, %v; want ErrUnsupported", goos, name, p, perr)
				}
				continue
			}
			if perr != nil || !inDir(p, fuzzDir) {
				t.Fatalf("%s: Path(%q) = %q, %v: outside %s", goos, name, p, perr, fuzzDir)
			}
			rel := strings.TrimPrefix(p, fuzzDir+"/") // inDir checked the prefix
			for _, c := range strings.Split(rel, "/") {
				if c == "" || c == "." || c == ".." || len(c) > nameMax {
					t.Fatalf("%s: Path(%q) = %q has component %q", goos, name, p, c)
				}
			}
		}
	})
}

// pathOracle checks one dialect's Path against a description of its rules
// written independently of names.go, mostly as regular expressions.
type pathOracle func(t *testing.T, name, rel string, err error)

func fuzzPath(f *testing.F, goos string, oracle pathOracle) {
	addNameSeeds(f)
	d := mustForOS(f, goos).Rooted(fuzzDir)
	f.Fuzz(func(t *testing.T, name string) {
		p, err := d.Path(name)
		rel := ""
		if err == nil {
			if !strings.HasPrefix(p, fuzzDir+"/") {
				t.Fatalf("Path(%q) = %q outside %s", name, p, fuzzDir)
			}
			rel = p[len(fuzzDir)+1:]
		}
		oracle(t, name, rel, err)
	})
}

// wantOutcome fails unless err is want (nil: success) and, on success,
// rel is wantRel.
func wantOutcome(t *testing.T, name, rel string, err error, want syscall.Errno, wantRel string) {
	t.Helper()
	if want == 0 {
		if err != nil || rel != wantRel {
			t.Fatalf("Path(%q) = %q, %v; want %q", name, rel, err, wantRel)
		}
		return
	}
	if err != want {
		t.Fatalf("Path(%q) = %q, %v; want %v", name, rel, err, want)
	}
}

var (
	strippedRE = regexp.MustCompile(`^/*([^/]*)$`)
	oneSlashRE = regexp.MustCompile(`^/([^/]*)$`)
	hex64RE    = regexp.MustCompile(`^[0-9a-f]{64}\.shm$`)
	solHashRE  = regexp.MustCompile(`^\.[0-9a-f]{32}/\.SHMD/([^/]+)$`)
)

func FuzzPathLinux(f *testing.F) {
	fuzzPath(f, "linux", func(t *testing.T, name, rel string, err error) {
		m := strippedRE.FindStringSubmatch(name)
		switch {
		case m == nil || m[1] == "" || m[1] == "." || m[1] == ".." || strings.Contains(name, "\x00"):
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		case len(m[1]) > 255:
			wantOutcome(t, name, rel, err, syscall.ENAMETOOLONG, "")
		default:
			wantOutcome(t, name, rel, err, 0, m[1])
		}
	})
}

func FuzzPathOpenBSD(f *testing.F) {
	fuzzPath(f, "openbsd", func(t *testing.T, name, rel string, err error) {
		if hasEscape(name) {
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
			return
		}
		if err != nil || !hex64RE.MatchString(rel) {
			t.Fatalf("Path(%q) = %q, %v; want <64 hex>.shm", name, rel, err)
		}
		// The whole name is hashed: a leading slash makes a difference.
		if other, _ := mustForOS(t, "openbsd").Rooted(fuzzDir).Path("/" + name); other == fuzzDir+"/"+rel {
			t.Fatalf("%q and %q map to the same file", name, "/"+name)
		}
	})
}

func FuzzPathNetBSD(f *testing.F) {
	fuzzPath(f, "netbsd", func(t *testing.T, name, rel string, err error) {
		m := oneSlashRE.FindStringSubmatch(name)
		switch {
		case m == nil || hasEscape(name):
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		case len(".shmobj_"+m[1]) > 255:
			wantOutcome(t, name, rel, err, syscall.ENAMETOOLONG, "")
		default:
			wantOutcome(t, name, rel, err, 0, ".shmobj_"+m[1])
		}
	})
}

func FuzzPathDragonFly(f *testing.F) {
	fuzzPath(f, "dragonfly", func(t *testing.T, name, rel string, err error) {
		m := strippedRE.FindStringSubmatch(name)
		switch {
		case strings.Contains(name, "\x00"):
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		case strings.TrimLeft(name, "/") == "":
			wantOutcome(t, name, rel, err, syscall.ENOENT, "")
		case m == nil:
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		case len(m[1]) > 255:
			wantOutcome(t, name, rel, err, syscall.ENAMETOOLONG, "")
		case m[1] == "." || m[1] == "..":
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		default:
			wantOutcome(t, name, rel, err, 0, m[1])
		}
	})
}

func FuzzPathSolaris(f *testing.F) {
	fuzzPath(f, "solaris", func(t *testing.T, name, rel string, err error) {
		m := oneSlashRE.FindStringSubmatch(name)
		switch {
		case m == nil || hasEscape(name):
			wantOutcome(t, name, rel, err, syscall.EINVAL, "")
		case len(m[1]) > 255:
			wantOutcome(t, name, rel, err, syscall.ENAMETOOLONG, "")
		case len(m[1]) > 250:
			h := solHashRE.FindStringSubmatch(rel)
			if err != nil || h == nil || h[1] != m[1] {
				t.Fatalf("Path(%.20q…) = %q, %v; want .<md5>/.SHMD/<name>", name, rel, err)
			}
		default:
			wantOutcome(t, name, rel, err, 0, ".SHMD"+m[1])
		}
	})
}

var portableRE = regexp.MustCompile(`^/[A-Za-z0-9._-]{1,30}$`)

// FuzzValidPortable checks ValidPortable against the rule as a regular
// expression.
func FuzzValidPortable(f *testing.F) {
	addNameSeeds(f)
	f.Fuzz(func(t *testing.T, name string) {
		want := portableRE.MatchString(name) && name != "/." && name != "/.."
		if got := ValidPortable(name) == nil; got != want {
			t.Fatalf("ValidPortable(%q) accepted = %v, want %v", name, got, want)
		}
	})
}
