package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"
)

// tmpfilesDirs are the tmpfiles.d directories, highest precedence first.
var tmpfilesDirs = []string{
	"/etc/tmpfiles.d", "/run/tmpfiles.d", "/usr/local/lib/tmpfiles.d", "/usr/lib/tmpfiles.d", "/lib/tmpfiles.d",
}

// tmpfilesWatched are the directories whose aging matters: /dev/shm holds
// named objects on Linux, /tmp what programs keep next to them.
var tmpfilesWatched = []string{"/dev/shm", "/tmp"}

// A tmpfilesRule is a parsed line with where it came from.
type tmpfilesRule struct {
	File string
	Num  int
	Line TmpfilesLine
	Age  Age
}

func (t tmpfilesRule) where() string { return fmt.Sprintf("%s:%d", t.File, t.Num) }

// describe renders the line's first six fields and where it is.
func (t tmpfilesRule) describe() string {
	w := []string{string(t.Line.Type) + t.Line.Modifiers, t.Line.Path, t.Line.Mode, t.Line.User, t.Line.Group, t.Line.Age}
	for i, s := range w {
		if s == "" {
			w[i] = "-"
		}
	}
	return fmt.Sprintf("%q (%s)", strings.Join(w, " "), t.where())
}

// tmpfilesDirState is what the rules do to one watched directory.
type tmpfilesDirState struct {
	aging    []tmpfilesRule // lines that age the entries directly in it
	deeper   []tmpfilesRule // "~" lines: only entries one level down
	owner    *tmpfilesRule  // the line that owns the path, aging or not
	excluded *tmpfilesRule  // an x/X line covering all its entries
}

// threshold returns the shortest age of the lines that age direct
// entries, and the line; ok=false when none does.
func (d *tmpfilesDirState) threshold() (time.Duration, tmpfilesRule, bool) {
	var best tmpfilesRule
	ok := false
	for _, a := range d.aging {
		if a.Age.Infinite {
			continue
		}
		if !ok || a.Age.Dur < best.Age.Dur {
			best, ok = a, true
		}
	}
	return best.Age.Dur, best, ok
}

// tmpfilesState is what the tmpfiles and objects checks share.
type tmpfilesState struct {
	installed bool
	runs      bool // systemd is the init system, so systemd-tmpfiles-clean.timer fires
	files     []string
	problems  []string
	rules     []tmpfilesRule // every line loaded for a clean run
	dirs      map[string]*tmpfilesDirState
}

// takesOwnership reports types that create the path; of those only the
// first line for a path counts (tmpfiles.c item_compatible).
func takesOwnership(t byte) bool { return strings.IndexByte("fFwdDvqQpLcbC", t) >= 0 }

// tmpfilesPattern turns a line's path into a glob: specifiers (%b, %u,
// ...) become '*', "%%" a '%'.
func tmpfilesPattern(p string) string {
	if !strings.Contains(p, "%") {
		return path.Clean(p)
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+1 < len(p) {
			i++
			if p[i] == '%' {
				b.WriteByte('%')
			} else {
				b.WriteByte('*')
			}
			continue
		}
		b.WriteByte(p[i])
	}
	return path.Clean(b.String())
}

// tmpfilesMatch reports whether a line's path names p, literally or as a glob.
func tmpfilesMatch(linePath, p string) bool {
	pat := tmpfilesPattern(linePath)
	if pat == p {
		return true
	}
	if strings.ContainsAny(pat, "*?[") {
		ok, err := path.Match(pat, p)
		return err == nil && ok
	}
	return false
}

// loadTmpfiles reads every tmpfiles.d file and works out what ages the
// watched directories.
func (r *runner) loadTmpfiles() *tmpfilesState {
	if r.tmpfilesDone {
		return &r.tmpfiles
	}
	r.tmpfilesDone = true
	s := &r.tmpfiles
	s.dirs = map[string]*tmpfilesDirState{}
	for _, d := range tmpfilesWatched {
		s.dirs[d] = &tmpfilesDirState{}
	}
	for _, d := range append([]string{"/usr/bin/systemd-tmpfiles", "/bin/systemd-tmpfiles"}, tmpfilesDirs...) {
		if r.exists(d) {
			s.installed = true
		}
	}
	s.runs = r.systemdRunning()
	for _, cf := range r.confFiles(tmpfilesDirs) {
		if cf.Masked {
			continue
		}
		b, err := r.readFile(cf.Path)
		if err != nil {
			s.problems = append(s.problems, err.Error())
			continue
		}
		s.files = append(s.files, cf.Path)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			l, ok, err := ParseTmpfilesLine(sc.Text())
			if err != nil {
				s.problems = append(s.problems, fmt.Sprintf("%s:%d: %v", cf.Path, n, err))
				continue
			}
			if !ok || l.BootOnly() { // "!" lines are not loaded by --clean
				continue
			}
			age, err := ParseAge(l.Age)
			if err != nil {
				s.problems = append(s.problems, fmt.Sprintf("%s:%d: %v", cf.Path, n, err))
				continue
			}
			rule := tmpfilesRule{File: cf.Path, Num: n, Line: l, Age: age}
			s.rules = append(s.rules, rule)
			for dir, ds := range s.dirs {
				r.applyTmpfilesRule(ds, dir, rule)
			}
		}
		if err := sc.Err(); err != nil {
			// A line over the limit: the rules after it were not read.
			s.problems = append(s.problems, fmt.Sprintf("%s:%d: %v; the rest of the file was not read", cf.Path, n+1, err))
		}
	}
	return s
}

func (r *runner) applyTmpfilesRule(ds *tmpfilesDirState, dir string, rule tmpfilesRule) {
	l := rule.Line
	if l.Excludes() && ds.excluded == nil {
		// x on the directory covers it and its contents; x or X on a glob
		// matching any entry name covers them all.
		if (l.Type == 'x' && tmpfilesMatch(l.Path, dir)) ||
			(tmpfilesMatch(l.Path, dir+"/shm-probe.0") && tmpfilesMatch(l.Path, dir+"/sem.probe")) {
			ds.excluded = &rule
		}
		return
	}
	if !tmpfilesMatch(l.Path, dir) {
		return
	}
	if takesOwnership(l.Type) {
		if ds.owner != nil {
			return // a duplicate line for the path: tmpfiles ignores it
		}
		ds.owner = &rule
	}
	if !l.Ages() || !rule.Age.Set {
		return
	}
	if rule.Age.SecondLevel {
		ds.deeper = append(ds.deeper, rule)
	} else {
		ds.aging = append(ds.aging, rule)
	}
}

// checkTmpfiles reports tmpfiles.d rules that age /dev/shm or /tmp.
func checkTmpfiles(r *runner) Finding {
	if r.env.GOOS != "linux" {
		return r.skipOS("systemd-tmpfiles", "Linux")
	}
	s := r.loadTmpfiles()
	if !s.installed {
		return Finding{
			Status:  Skip,
			Summary: "not checked: systemd-tmpfiles is not installed (no tmpfiles.d directory, no systemd-tmpfiles binary)",
			Meaning: "Nothing here ages files by tmpfiles.d rules; other cleaners (cron jobs, tmpreaper) are not checked.",
			Remedy:  "None needed; if a cron job cleans /dev/shm or /tmp, exclude shared-memory objects from it.",
		}
	}
	var parts, warnDirs []string
	for _, dir := range tmpfilesWatched {
		ds := s.dirs[dir]
		th, rule, ok := ds.threshold()
		switch {
		case ds.excluded != nil:
			parts = append(parts, fmt.Sprintf("%s: entries excluded from aging by %s", dir, ds.excluded.describe()))
		case ok:
			parts = append(parts, fmt.Sprintf("%s: aged after %s by %s", dir, formatSpan(th), rule.describe()))
			warnDirs = append(warnDirs, dir)
		case len(ds.deeper) > 0:
			parts = append(parts, fmt.Sprintf("%s: only sub-directories aged (%s), entries directly in it are spared", dir, ds.deeper[0].describe()))
		case ds.owner != nil:
			parts = append(parts, fmt.Sprintf("%s: %s, no age", dir, ds.owner.describe()))
		default:
			parts = append(parts, dir+": no rule")
		}
	}
	summary := fmt.Sprintf("%d tmpfiles.d files read; %s", len(s.files), strings.Join(parts, "; "))
	if len(s.problems) > 0 {
		summary += "; lines tmpfiles would ignore: " + strings.Join(s.problems, "; ")
	}
	const how = "systemd-tmpfiles-clean (a daily timer) deletes entries of an aged directory whose access, modification and change times are all older than the age. "
	if len(warnDirs) == 0 {
		return Finding{
			Status:  OK,
			Summary: summary,
			Meaning: how + "No rule ages /dev/shm or /tmp, so named objects are not deleted for being idle.",
		}
	}
	if !s.runs {
		return Finding{
			Status:  OK,
			Summary: summary + "; but systemd is not the init system (no /run/systemd/system), so no timer runs systemd-tmpfiles --clean",
			Meaning: how + "Here nothing runs the clean-up, so the rule does not delete objects; it would if the host booted with systemd.",
		}
	}
	return Finding{
		Status:  Warn,
		Summary: summary,
		Meaning: how + "An object in " + strings.Join(warnDirs, " or ") + " that no process touches for that long is deleted while processes still have it mapped: " +
			"they keep the memory, but the name is gone and later opens fail with ENOENT. " +
			"Objects under shm's KeepAlive are safe: it refreshes their timestamps (KeepAlive's period must stay below the age), and holds a shared flock(2), which systemd-tmpfiles 254 and later honours for files (earlier versions honour locks on directories only).",
		Remedy: "Keep long-lived named objects under shm's KeepAlive; or exclude them with a line such as `x /dev/shm/myapp.*` in /etc/tmpfiles.d/shm.conf; " +
			"or override the aging rule with a same-named file in /etc/tmpfiles.d.",
	}
}
