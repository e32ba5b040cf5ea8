package doctor

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// maxListed is how many objects a finding names before "and N more".
const maxListed = 10

// maxObjects bounds how many directory entries are examined.
const maxObjects = 100000

// An object is a named shared-memory object seen in the filesystem.
type object struct {
	path string
	stat fileStat
}

// listObjects returns the regular files directly in dir whose names
// satisfy keep.
func (r *runner) listObjects(dir string, keep func(name string) bool) ([]object, error) {
	ents, err := os.ReadDir(r.path(dir))
	if err != nil {
		return nil, err
	}
	var out []object
	for i, e := range ents {
		if i >= maxObjects {
			break
		}
		if !e.Type().IsRegular() || !keep(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, object{path: path.Join(dir, e.Name()), stat: statInfo(fi)})
	}
	return out, nil
}

// An atRisk is an object a cleaner would delete, and why.
type atRisk struct {
	obj    object
	reason string
}

// checkObjectsAtRisk lists named objects a cleaner found by the other
// checks would delete.
func checkObjectsAtRisk(r *runner) Finding {
	switch r.env.GOOS {
	case "linux":
		return r.objectsLinux()
	case "openbsd":
		return r.objectsOpenBSD()
	}
	where := map[string]string{
		"freebsd": "in a kernel table, not in the filesystem",
		"darwin":  "in a kernel table, not in the filesystem",
		"ios":     "in a kernel table, not in the filesystem",
	}[r.env.GOOS]
	if where == "" {
		where = "where no known cleaner ages them"
	}
	return Finding{
		Status:  Skip,
		Summary: fmt.Sprintf("not checked: on %s named objects live %s", r.env.GOOS, where),
		Meaning: "This check knows the cleaners of Linux (/dev/shm) and OpenBSD (/tmp/*.shm); none of them applies here.",
		Remedy:  "None needed on this OS.",
	}
}

func (r *runner) objectsLinux() Finding {
	const dir = "/dev/shm"
	const meaning = "Named objects (and glibc's sem.* semaphores) are files in /dev/shm; a cleaner that deletes one takes its name away " +
		"from every process: holders keep the memory, but later opens fail with ENOENT. "
	objs, err := r.listObjects(r.resolveLink(dir), func(string) bool { return true })
	if err != nil {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: cannot list %s: %v", dir, err),
			Meaning: meaning + "Which objects are at risk is unknown.",
			Remedy:  "Run the doctor as a user that can read /dev/shm.",
		}
	}
	ts := r.loadTmpfiles()
	ds := ts.dirs[dir]
	th, rule, aged := ds.threshold()
	aged = aged && ts.runs && ds.excluded == nil
	lg := r.loadLogind()

	var risky []atRisk
	var cleaners []string
	if aged {
		cleaners = append(cleaners, fmt.Sprintf("tmpfiles ages %s after %s (%s)", dir, formatSpan(th), rule.where()))
	}
	if lg.active() {
		cleaners = append(cleaners, fmt.Sprintf("logind RemoveIPC removes objects of regular users (uid > %d) at their logout", lg.sysMax))
	}
	owners := map[int]string{}
	for _, o := range objs {
		if aged && !r.tmpfilesProtects(ts, o.path) {
			last := o.stat.lastUse()
			if rule.Age.By != "" {
				last = lastUseBy(o.stat, rule.Age.By)
			}
			if r.env.Now.Sub(last) > th {
				risky = append(risky, atRisk{o, fmt.Sprintf("idle %s > %s, tmpfiles deletes it", formatAge(r.env.Now, last), formatSpan(th))})
				continue
			}
		}
		if lg.active() && o.stat.UID >= 0 && uint64(o.stat.UID) > uint64(lg.sysMax) {
			name, ok := owners[o.stat.UID]
			if !ok {
				name = r.lookupUser(o.stat.UID)
				owners[o.stat.UID] = name
			}
			if name == "" || !r.lingering(lg, name) {
				who := fmt.Sprintf("uid %d", o.stat.UID)
				if name != "" {
					who += " (" + name + ")"
				}
				risky = append(risky, atRisk{o, "owned by regular user " + who + ", removed by logind at that user's logout"})
			}
		}
	}
	return objectsFinding(r, dir, objs, risky, cleaners, meaning)
}

// tmpfilesProtects reports whether a loaded tmpfiles line names p, which
// keeps the aging of its directory away from it.
func (r *runner) tmpfilesProtects(ts *tmpfilesState, p string) bool {
	for _, rule := range ts.rules {
		if tmpfilesMatch(rule.Line.Path, p) {
			return true
		}
		if rule.Line.Type == 'x' && strings.HasPrefix(p, tmpfilesPattern(rule.Line.Path)+"/") {
			return true
		}
	}
	return false
}

// lastUseBy is the newest of the timestamps a tmpfiles age selector
// names ("a", "m", "c"; birth times are not known here and ignored).
func lastUseBy(s fileStat, by string) time.Time {
	var t time.Time
	for _, c := range by {
		var v time.Time
		switch c {
		case 'a':
			v = s.Atime
		case 'm':
			v = s.Mtime
		case 'c':
			v = s.Ctime
		default:
			continue
		}
		if v.After(t) {
			t = v
		}
	}
	if t.IsZero() {
		return s.lastUse()
	}
	return t
}

// lookupUser names uid from /etc/passwd under Root ("" if unknown).
func (r *runner) lookupUser(uid int) string {
	if uid == r.env.UID && r.env.User != "" {
		return r.env.User
	}
	b, err := r.readFile("/etc/passwd")
	if err != nil {
		return ""
	}
	want := fmt.Sprint(uid)
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == want {
			return f[0]
		}
	}
	return ""
}

func (r *runner) objectsOpenBSD() Finding {
	const dir = "/tmp"
	const meaning = "OpenBSD's named objects are /tmp/<sha256>.shm files and semaphores /tmp/<sha256>.sem; mappings do not update " +
		"their access time, and when daily(8) deletes one the name is gone for every process: later opens fail with ENOENT. "
	objs, err := r.listObjects(dir, func(n string) bool {
		return strings.HasSuffix(n, ".shm") || strings.HasSuffix(n, ".sem")
	})
	if err != nil {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: cannot list %s: %v", dir, err),
			Meaning: meaning + "Which objects are at risk is unknown.",
			Remedy:  "Run the doctor as a user that can read /tmp.",
		}
	}
	ds := r.loadDaily()
	var risky []atRisk
	var cleaners []string
	for _, sem := range []bool{false, true} {
		rule, ok := ds.shortest(sem)
		if !ok {
			continue
		}
		suffix := ".shm"
		if sem {
			suffix = ".sem"
		}
		cleaners = append(cleaners, fmt.Sprintf("daily(8) deletes %s files after %d days without %s (%s)", suffix, rule.Days, timeWord(rule.Test), rule.where()))
		th := time.Duration(rule.Days) * 24 * time.Hour
		for _, o := range objs {
			if !strings.HasSuffix(o.path, suffix) {
				continue
			}
			t := o.stat.Atime
			switch rule.Test {
			case "mtime":
				t = o.stat.Mtime
			case "ctime":
				t = o.stat.Ctime
			}
			if r.env.Now.Sub(t) > th {
				risky = append(risky, atRisk{o, fmt.Sprintf("last %s %s ago > %dd, daily(8) deletes it", timeWord(rule.Test), formatAge(r.env.Now, t), rule.Days)})
			}
		}
	}
	return objectsFinding(r, dir, objs, risky, cleaners, meaning)
}

// objectsFinding turns the objects and the ones at risk into a finding.
func objectsFinding(r *runner, dir string, objs []object, risky []atRisk, cleaners []string, meaning string) Finding {
	cl := "no active cleaner applies to them"
	if len(cleaners) > 0 {
		cl = strings.Join(cleaners, "; ")
	}
	if len(risky) == 0 {
		summary := fmt.Sprintf("%d named objects in %s, none at risk; %s", len(objs), dir, cl)
		if len(objs) == 0 {
			summary = fmt.Sprintf("no named objects in %s; %s", dir, cl)
		}
		return Finding{Status: OK, Summary: summary, Meaning: meaning + "No object present now would be deleted.", Cleaners: cleaners}
	}
	sort.Slice(risky, func(i, j int) bool { return risky[i].obj.path < risky[j].obj.path })
	var list []string
	all := make([]AtRisk, 0, len(risky))
	for i, a := range risky {
		all = append(all, AtRisk{Path: a.obj.path, Reason: a.reason})
		switch {
		case i < maxListed:
			list = append(list, fmt.Sprintf("%s (%s)", a.obj.path, a.reason))
		case i == maxListed:
			list = append(list, fmt.Sprintf("and %d more", len(risky)-maxListed))
		}
	}
	return Finding{
		AtRisk:   all,
		Cleaners: cleaners,
		Status:   Warn,
		Summary:  fmt.Sprintf("%d of %d named objects in %s are at risk: %s", len(risky), len(objs), dir, strings.Join(list, "; ")),
		Meaning:  meaning + "Those listed would be deleted by " + cl + ".",
		Remedy:   "Put the objects that must live on under shm's KeepAlive, which refreshes their timestamps and holds a shared flock(2); remove the ones nobody uses (`shm rm`); see the findings of the cleaners for how to turn them off.",
	}
}

// checkRlimit reports RLIMIT_NOFILE.
func checkRlimit(r *runner) Finding {
	if r.env.RlimitNofile == nil {
		return Finding{
			Status:  Skip,
			Summary: "not checked: no way to read RLIMIT_NOFILE was given",
			Meaning: "How many descriptors a process may hold is unknown.",
			Remedy:  "Check with `ulimit -n` and `ulimit -Hn`.",
		}
	}
	soft, hard, err := r.env.RlimitNofile()
	if err != nil {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %v", err),
			Meaning: "How many descriptors a process may hold is unknown.",
			Remedy:  "None needed on this OS.",
		}
	}
	const meaning = "Every open object holds a descriptor, and so does every fd passed between processes. " +
		"Go programs raise their soft limit to the hard limit at start-up, so the hard limit bounds shm in Go; C peers start with the soft limit of the shell that launched them, which this Go process no longer shows. "
	summary := fmt.Sprintf("RLIMIT_NOFILE soft %s, hard %s", rlimString(soft), rlimString(hard))
	if soft < 1024 || hard < 1024 {
		return Finding{
			Status:  Warn,
			Summary: summary,
			Meaning: meaning + "Below 1024, a program with many objects or mappings runs out of descriptors (EMFILE).",
			Remedy:  "Raise it: `ulimit -n 65536` in the shell, LimitNOFILE= in a systemd unit, `--ulimit nofile=65536:65536` for Docker, or /etc/security/limits.conf.",
		}
	}
	return Finding{Status: OK, Summary: summary, Meaning: meaning + "The limit is ample."}
}

func rlimString(v uint64) string {
	if v == Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(v)
}
