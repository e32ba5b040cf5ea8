package doctor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// dailyState is what the daily and objects checks share.
type dailyState struct {
	files    []string // scripts read
	rules    []dailyRuleAt
	problems []string
}

type dailyRuleAt struct {
	File string
	DailyRule
}

func (d dailyRuleAt) where() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// shortest returns the rule with the smallest threshold that deletes
// .shm (or .sem) files, ok=false if none does.
func (s *dailyState) shortest(sem bool) (dailyRuleAt, bool) {
	var best dailyRuleAt
	ok := false
	for _, r := range s.rules {
		spared := r.SparesShm
		if sem {
			spared = r.SparesSem
		}
		if spared {
			continue
		}
		if !ok || r.Days < best.Days {
			best, ok = r, true
		}
	}
	return best, ok
}

// loadDaily parses /etc/daily and /etc/daily.local (which daily runs first).
func (r *runner) loadDaily() *dailyState {
	if r.dailyDone {
		return &r.daily
	}
	r.dailyDone = true
	s := &r.daily
	for _, f := range []string{"/etc/daily.local", "/etc/daily"} {
		b, err := r.readFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			s.problems = append(s.problems, err.Error())
			continue
		}
		s.files = append(s.files, f)
		rules, err := ParseDaily(b)
		if err != nil {
			s.problems = append(s.problems, f+": "+err.Error())
			continue
		}
		for _, rule := range rules {
			s.rules = append(s.rules, dailyRuleAt{File: f, DailyRule: rule})
		}
	}
	return s
}

// checkOpenBSDDaily reports whether daily(8) deletes idle /tmp/*.shm files.
func checkOpenBSDDaily(r *runner) Finding {
	if r.env.GOOS != "openbsd" {
		return r.skipOS("daily(8)'s /tmp clean-up", "OpenBSD")
	}
	s := r.loadDaily()
	const layout = "OpenBSD's libc (and shm) keeps a named object in /tmp/<sha256 of the name>.shm and a semaphore in .sem; " +
		"access through a mapping does not update the access time. "
	if len(s.files) == 0 {
		f := Finding{
			Status:  OK,
			Summary: "no /etc/daily or /etc/daily.local: daily(8) cleans nothing in /tmp",
			Meaning: layout + "Without the script nothing deletes them for being idle.",
		}
		if len(s.problems) > 0 {
			f.Status = Skip
			f.Summary = "not checked: " + strings.Join(s.problems, "; ")
			f.Meaning = layout + "Whether daily(8) deletes them is unknown."
			f.Remedy = "Run the doctor as a user that can read /etc/daily."
		}
		return f
	}
	if len(s.rules) == 0 {
		return Finding{
			Status:  OK,
			Summary: strings.Join(s.files, " and ") + ": no find command deletes old files in /tmp",
			Meaning: layout + "Nothing in daily(8) deletes them for being idle.",
		}
	}
	var parts []string
	for _, rule := range s.rules {
		spares := "deletes .shm and .sem files too"
		switch {
		case rule.SparesShm && rule.SparesSem:
			spares = "spares *.shm and *.sem"
		case rule.SparesShm:
			spares = "spares *.shm but not *.sem"
		case rule.SparesSem:
			spares = "spares *.sem but not *.shm"
		}
		parts = append(parts, fmt.Sprintf("%s deletes files in /tmp with -%s +%d (%s)", rule.where(), rule.Test, rule.Days, spares))
	}
	summary := strings.Join(parts, "; ")
	shm, shmHit := s.shortest(false)
	sem, semHit := s.shortest(true)
	if !shmHit && !semHit {
		return Finding{
			Status:  OK,
			Summary: summary,
			Meaning: layout + "The clean-up leaves them alone (the exception etc/daily gained in revision 1.101), however long they sit idle.",
		}
	}
	rule, victim := shm, ".shm and .sem files"
	switch {
	case !shmHit:
		rule, victim = sem, ".sem files"
	case !semHit:
		victim = ".shm files"
	}
	return Finding{
		Status:  Warn,
		Summary: summary,
		Meaning: layout + fmt.Sprintf("So daily(8) deletes %s whose last %s is more than %d days old, even while processes have them mapped: "+
			"the name is gone and later opens fail with ENOENT (etc/daily before revision 1.101 had no exception for them).", victim, timeWord(rule.Test), rule.Days),
		Remedy: "Keep long-lived objects under shm's KeepAlive (it refreshes the access time); or add `-and ! -path './*.s[eh]m'` " +
			"before the age test of that find command, as etc/daily 1.101 does; or upgrade OpenBSD.",
	}
}

func timeWord(test string) string {
	switch test {
	case "mtime":
		return "modification"
	case "ctime":
		return "status change"
	}
	return "access"
}

// checkNetBSDVarShm checks the tmpfs NetBSD's librt needs at /var/shm.
func checkNetBSDVarShm(r *runner) Finding {
	if r.env.GOOS != "netbsd" {
		return r.skipOS("the /var/shm tmpfs", "NetBSD")
	}
	const meaning = "NetBSD's librt keeps named objects in /var/shm/.shmobj_<name> and refuses every shm_open with ENOTSUP " +
		"unless /var/shm is a tmpfs with mode 01777; shm's named objects use the same place, and so do its anonymous objects " +
		"before NetBSD 11 (a random name there, unlinked at once); from NetBSD 11 anonymous objects are memfds and do not need it. "
	const fstabLine = "tmpfs /var/shm tmpfs rw,-m1777,-sram%25"

	// What /etc/fstab says.
	var entry *FstabEntry
	commented := ""
	if b, err := r.readFile("/etc/fstab"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Text()
			e, ok, err := ParseFstabLine(line)
			if err == nil && ok && e.File == "/var/shm" {
				entry = &e
			}
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
				if e, ok, err := ParseFstabLine(strings.TrimLeft(t, "# \t")); err == nil && ok && e.File == "/var/shm" {
					commented = strings.TrimSpace(t)
				}
			}
		}
	}
	var fstab string
	switch {
	case entry != nil:
		fstab = fmt.Sprintf("/etc/fstab mounts %s on /var/shm (%s)", entry.VFSType, strings.Join(entry.Options, ","))
	case commented != "":
		fstab = fmt.Sprintf("/etc/fstab has the /var/shm line commented out (%q; sysinst does that on machines with little memory)", commented)
	default:
		fstab = "/etc/fstab has no /var/shm line"
	}

	// What is mounted now.
	fi, err := r.stat("/var/shm")
	if err != nil {
		return Finding{
			Status:  Fail,
			Summary: "/var/shm does not exist; " + fstab,
			Meaning: meaning + "Named objects cannot be used on this host.",
			Remedy:  "`mkdir -m 1777 /var/shm`, add `" + fstabLine + "` to /etc/fstab, then `mount /var/shm`.",
		}
	}
	if r.env.Statfs == nil {
		return Finding{
			Status:  Skip,
			Summary: "not checked: cannot tell which filesystem is mounted on /var/shm (no statfs); " + fstab,
			Meaning: meaning + "Whether named objects work here is unknown.",
			Remedy:  "Check with `mount | grep /var/shm`.",
		}
	}
	st, err := r.env.Statfs("/var/shm")
	if err != nil {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %v; %s", err, fstab),
			Meaning: meaning + "Whether named objects work here is unknown.",
			Remedy:  "Check with `mount | grep /var/shm`.",
		}
	}
	mode := fi.Mode()
	modeOK := mode.Perm() == 0o777 && mode&fs.ModeSticky != 0
	summary := fmt.Sprintf("/var/shm is %s, mode %s, %s", st.Type, modeString(mode), fstab)
	switch {
	case st.Type != "tmpfs":
		remedy := "Add `" + fstabLine + "` to /etc/fstab and `mount /var/shm`."
		if entry != nil && entry.VFSType == "tmpfs" {
			remedy = "`mount /var/shm` (it is in /etc/fstab but not mounted)."
		}
		return Finding{
			Status:  Fail,
			Summary: summary,
			Meaning: meaning + "It is not a tmpfs, so shm_open fails with ENOTSUP.",
			Remedy:  remedy,
		}
	case !modeOK:
		return Finding{
			Status:  Fail,
			Summary: summary,
			Meaning: meaning + "Its mode is not 01777, so shm_open fails with ENOTSUP.",
			Remedy:  "`chmod 1777 /var/shm`, and give the fstab line the option -m1777.",
		}
	case entry == nil || entry.VFSType != "tmpfs":
		return Finding{
			Status:  Warn,
			Summary: summary,
			Meaning: meaning + "It is mounted correctly now, but not from /etc/fstab: after a reboot shm_open fails with ENOTSUP.",
			Remedy:  "Add `" + fstabLine + "` to /etc/fstab.",
		}
	}
	if v, ok := entry.Option("-m"); ok {
		if m, err := strconv.ParseUint(v, 8, 32); err == nil && m != 0o1777 {
			return Finding{
				Status:  Warn,
				Summary: summary,
				Meaning: meaning + fmt.Sprintf("It works now, but /etc/fstab mounts it with -m%s: after a reboot shm_open fails with ENOTSUP.", v),
				Remedy:  "Use -m1777 in the /etc/fstab line: `" + fstabLine + "`.",
			}
		}
	}
	return Finding{
		Status:  OK,
		Summary: summary,
		Meaning: meaning + "It is set up right.",
	}
}
