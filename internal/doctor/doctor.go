package doctor

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shmkit/shm/internal/statfs"
)

// Status is the outcome of one check.
type Status string

// The statuses, from least to most severe. Skip is for a check that
// cannot run on this host; its summary says why.
const (
	Skip Status = "skip"
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Rank orders statuses by severity: skip < ok < warn < fail. Unknown
// statuses rank as fail.
func (s Status) Rank() int {
	switch s {
	case Skip:
		return 0
	case OK:
		return 1
	case Warn:
		return 2
	}
	return 3
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	return s == Skip || s == OK || s == Warn || s == Fail
}

// The check IDs. They are stable: tools and people match on them.
const (
	IDAnonStrategy    = "anon.strategy"
	IDMemfdNoexec     = "memfd.noexec"
	IDDevShmSize      = "devshm.size"
	IDLogindRemoveIPC = "logind.removeipc"
	IDTmpfilesAge     = "tmpfiles.age"
	IDOpenBSDDaily    = "openbsd.daily"
	IDNetBSDVarShm    = "netbsd.varshm"
	IDObjectsAtRisk   = "objects.atrisk"
	IDRlimitNofile    = "rlimit.nofile"
	IDShmdebug        = "shmdebug.settings"
)

// IDs returns every check ID in the order [Run] reports them. Every
// report has exactly these findings, on every OS.
func IDs() []string {
	return []string{
		IDAnonStrategy, IDMemfdNoexec, IDDevShmSize, IDLogindRemoveIPC, IDTmpfilesAge,
		IDOpenBSDDaily, IDNetBSDVarShm, IDObjectsAtRisk, IDRlimitNofile,
		IDHugePages, IDShmdebug, IDRingFence,
	}
}

// A Finding is the result of one check.
type Finding struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Summary string `json:"summary"`          // what was found, with numbers and paths
	Meaning string `json:"meaning"`          // what it means for shared memory
	Remedy  string `json:"remedy,omitempty"` // what to do; set whenever Status is not OK

	// Set by objects.atrisk when it looked (status ok or warn): every
	// object at risk, not only the ones the summary names, and the active
	// cleaners that apply to the objects (none: nothing ages them).
	AtRisk   []AtRisk `json:"at_risk,omitempty"`
	Cleaners []string `json:"cleaners,omitempty"`
}

// An AtRisk is a named object present now that a cleaner would delete.
type AtRisk struct {
	Path   string `json:"path"`   // the object's file, e.g. /dev/shm/NAME
	Reason string `json:"reason"` // why, e.g. "last use 9d ago > tmpfiles' 10d"
}

// FS describes a mounted filesystem.
type FS = statfs.FS

// Unlimited is the rlimit value for RLIM_INFINITY.
const Unlimited = math.MaxUint64

// Env is the host the checks examine. Host returns the real one; tests
// build fixture hosts.
type Env struct {
	// Root is the directory every file path is read under: "/" for the
	// host, a fixture tree in tests.
	Root string
	// GOOS selects the per-OS checks (runtime.GOOS for the host).
	GOOS string
	// Now is the time file ages are measured from.
	Now time.Time
	// Statfs reports the filesystem at a host path ("/dev/shm"), not
	// joined with Root. Nil: the parts that need it are skipped.
	Statfs func(path string) (FS, error)
	// RlimitNofile returns RLIMIT_NOFILE; [Unlimited] for no limit. Nil:
	// rlimit.nofile is skipped.
	RlimitNofile func() (soft, hard uint64, err error)
	// UID is the user the checks are about (os.Getuid() for the host);
	// -1 when unknown. User is its name, "" when unknown.
	UID  int
	User string
	// AnonProbe reports which strategy makes anonymous objects on this
	// host ("memfd", "shm_open2", ...). Nil: anon.strategy is skipped.
	AnonProbe func() (strategy string, err error)
	// WantSize is the size in bytes of the objects the caller means to
	// make (0: not said); hugepages.state checks the host against it.
	WantSize uint64
	// Debug is the SHMDEBUG value of the process ("" when unset), and
	// DebugErr the error of the settings it ignored (internal/shmdebug).
	Debug    string
	DebugErr error
	// FenceProbe reports why this process's ring gates cannot let go
	// with a plain store (internal/fence), nil when they can. Nil:
	// ring.fence is skipped.
	FenceProbe func() error
}

// Host returns the Env of the running host. AnonProbe is left nil for
// the caller to set.
func Host() Env {
	e := Env{
		Root:         "/",
		GOOS:         runtime.GOOS,
		Now:          time.Now(),
		Statfs:       statfs.Stat,
		RlimitNofile: hostRlimitNofile,
		UID:          os.Getuid(),
	}
	if e.UID >= 0 {
		if u, err := user.LookupId(strconv.Itoa(e.UID)); err == nil {
			e.User = u.Username
		}
	}
	return e
}

// Supported reports whether goos has shared memory at all; elsewhere
// (windows, js, wasip1, plan9) every check is skipped.
func Supported(goos string) bool {
	switch goos {
	case "linux", "android", "freebsd", "openbsd", "netbsd", "dragonfly", "darwin", "ios", "illumos", "solaris", "aix":
		return true
	}
	return false
}

// check is one check: it returns its finding.
type check func(r *runner) Finding

// Run runs every check against env and returns one finding per ID, in
// the order of [IDs]. It stops early with ctx's error if ctx is done; the
// findings gathered so far are returned with it.
func Run(ctx context.Context, env Env) ([]Finding, error) {
	if env.Root == "" {
		env.Root = "/"
	}
	if env.GOOS == "" {
		env.GOOS = runtime.GOOS
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	r := &runner{env: env}
	checks := []check{
		checkAnonStrategy, checkMemfdNoexec, checkDevShm, checkLogind, checkTmpfiles,
		checkOpenBSDDaily, checkNetBSDVarShm, checkObjectsAtRisk, checkRlimit,
		checkHugePages, checkShmdebug, checkFence,
	}
	out := make([]Finding, 0, len(checks))
	for i, c := range checks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		f := c(r)
		f.ID = IDs()[i]
		out = append(out, f)
	}
	return out, nil
}

// runner carries the env and what several checks share.
type runner struct {
	env Env

	tmpfilesDone bool
	tmpfiles     tmpfilesState
	logindDone   bool
	logind       logindState
	dailyDone    bool
	daily        dailyState
}

// skipOS is the finding of a check that applies to other systems only.
func (r *runner) skipOS(what, oses string) Finding {
	return Finding{
		Status:  Skip,
		Summary: fmt.Sprintf("not checked: %s exists on %s only, this host runs %s", what, oses, r.env.GOOS),
		Meaning: fmt.Sprintf("Nothing on %s corresponds to %s.", r.env.GOOS, what),
		Remedy:  "None needed on this OS.",
	}
}

// path returns where host path p is found under Root.
func (r *runner) path(p string) string {
	return filepath.Join(r.env.Root, filepath.FromSlash(p))
}

// maxConfig bounds what is read of any one configuration file.
const maxConfig = 4 << 20

// readFile reads host path p under Root.
func (r *runner) readFile(p string) ([]byte, error) {
	f, err := os.Open(r.path(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfig))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return b, nil
}

// exists reports whether host path p exists under Root (without
// following a final symlink).
func (r *runner) exists(p string) bool {
	_, err := os.Lstat(r.path(p))
	return err == nil
}

// lstat stats host path p under Root.
func (r *runner) lstat(p string) (fs.FileInfo, error) {
	return os.Lstat(r.path(p))
}

// stat stats host path p under Root, following symlinks.
func (r *runner) stat(p string) (fs.FileInfo, error) {
	return os.Stat(r.path(p))
}

// fileStat is what the checks need of a file's inode.
type fileStat struct {
	Atime, Mtime, Ctime time.Time
	UID                 int  // -1 when unknown
	Exact               bool // false: only the modification time was known
}

// lastUse is the newest of a file's access, modification and change
// times: what systemd-tmpfiles compares with the age by default.
func (s fileStat) lastUse() time.Time {
	t := s.Atime
	if s.Mtime.After(t) {
		t = s.Mtime
	}
	if s.Ctime.After(t) {
		t = s.Ctime
	}
	return t
}

// A confFile is one file of a configuration directory set, after
// overriding by name.
type confFile struct {
	Path   string // host path
	Masked bool   // a symlink to /dev/null: the name is disabled
}

// confFiles lists the *.conf files of dirs the way systemd's
// conf_files_list does: a name in an earlier directory hides the same
// name in later ones, a symlink to /dev/null masks the name, and the
// result is sorted by file name regardless of directory.
func (r *runner) confFiles(dirs []string) []confFile {
	byName := map[string]confFile{}
	for _, d := range dirs {
		ents, err := os.ReadDir(r.path(d))
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := e.Name()
			if !strings.HasSuffix(name, ".conf") || strings.HasPrefix(name, ".") {
				continue
			}
			if _, seen := byName[name]; seen {
				continue
			}
			p := path.Join(d, name)
			cf := confFile{Path: p}
			if e.Type()&fs.ModeSymlink != 0 {
				if t, err := os.Readlink(r.path(p)); err == nil && t == "/dev/null" {
					cf.Masked = true
				}
			} else if e.IsDir() {
				continue
			}
			byName[name] = cf
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]confFile, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

// systemdRunning reports whether systemd is the init system (sd_booted:
// /run/systemd/system exists).
func (r *runner) systemdRunning() bool {
	fi, err := r.stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// processNamed reports whether a process with one of the names runs,
// from /proc/PID/comm (Linux). It returns "" when none is seen.
func (r *runner) processNamed(names ...string) string {
	ents, err := os.ReadDir(r.path("/proc"))
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(r.path("/proc/" + e.Name() + "/comm"))
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(b))
		for _, n := range names {
			if comm == n {
				return n
			}
		}
	}
	return ""
}

// sysUIDMax reads SYS_UID_MAX from login.defs under Root.
func (r *runner) sysUIDMax() (uint32, string) {
	b, err := r.readFile("/etc/login.defs")
	if err != nil {
		return DefaultSysUIDMax, "default, no /etc/login.defs"
	}
	return SysUIDMax(ParseLoginDefs(b))
}

// formatBytes renders a size: "64.0 MiB".
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatAge renders how long ago t was: "12d", "5h", "3min".
func formatAge(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dmin", d/time.Minute)
}

// userDesc names the env's user: "uid 1000 (alice)".
func (r *runner) userDesc() string {
	if r.env.UID < 0 {
		return "an unknown user"
	}
	if r.env.User != "" {
		return fmt.Sprintf("uid %d (%s)", r.env.UID, r.env.User)
	}
	return fmt.Sprintf("uid %d", r.env.UID)
}
