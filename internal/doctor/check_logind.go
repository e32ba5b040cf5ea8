package doctor

import (
	"fmt"
	"path"
	"strings"
)

// logindFlavor is where one implementation of logind keeps its files.
type logindFlavor struct {
	name      string   // "systemd-logind" or "elogind"
	binaries  []string // any of them present: installed
	mainFiles []string // the first one present is the main file
	dropins   []string // drop-in directories, highest precedence first
	lingerDir string
}

var logindFlavors = []logindFlavor{
	{
		name:     "systemd-logind",
		binaries: []string{"/usr/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind"},
		mainFiles: []string{
			"/etc/systemd/logind.conf", "/run/systemd/logind.conf",
			"/usr/local/lib/systemd/logind.conf", "/usr/lib/systemd/logind.conf",
		},
		dropins: []string{
			"/etc/systemd/logind.conf.d", "/run/systemd/logind.conf.d",
			"/usr/local/lib/systemd/logind.conf.d", "/usr/lib/systemd/logind.conf.d",
			"/lib/systemd/logind.conf.d",
		},
		lingerDir: "/var/lib/systemd/linger",
	},
	{
		// elogind, the standalone logind of non-systemd distributions
		// (Devuan, Gentoo, Alpine, Void); same RemoveIPC setting and
		// system-user exemption.
		name:      "elogind",
		binaries:  []string{"/usr/libexec/elogind/elogind", "/lib/elogind/elogind", "/usr/lib/elogind/elogind"},
		mainFiles: []string{"/etc/elogind/logind.conf"},
		dropins: []string{
			"/etc/elogind/logind.conf.d", "/run/elogind/logind.conf.d",
			"/usr/local/lib/elogind/logind.conf.d", "/usr/lib/elogind/logind.conf.d",
		},
		lingerDir: "/var/lib/elogind/linger",
	},
}

// logindState is what the logind and objects checks share.
type logindState struct {
	flavor    *logindFlavor // nil: no logind acts here
	why       string        // how logind was detected, or why it is absent
	removeIPC bool
	source    string   // where RemoveIPC was set: "path:line", or "" for the default
	files     []string // configuration files read, in order
	problems  []string
	sysMax    uint32
	sysSource string
}

// active reports whether logind removes IPC of regular users here.
func (s *logindState) active() bool { return s.flavor != nil && s.removeIPC }

// lingering reports whether user has lingering enabled.
func (r *runner) lingering(s *logindState, user string) bool {
	if s.flavor == nil || user == "" || strings.ContainsAny(user, "/\x00") {
		return false
	}
	return r.exists(path.Join(s.flavor.lingerDir, user))
}

// loadLogind detects logind and resolves RemoveIPC.
func (r *runner) loadLogind() *logindState {
	if r.logindDone {
		return &r.logind
	}
	r.logindDone = true
	s := &r.logind
	s.sysMax, s.sysSource = r.sysUIDMax()
	running := r.processNamed("systemd-logind", "elogind", "elogind-daemon")
	booted := r.systemdRunning()
	switch running {
	case "systemd-logind":
		s.flavor, s.why = &logindFlavors[0], running+" is running"
	case "elogind", "elogind-daemon":
		s.flavor, s.why = &logindFlavors[1], running+" is running"
	default:
		if booted {
			for _, b := range logindFlavors[0].binaries {
				if r.exists(b) {
					s.flavor, s.why = &logindFlavors[0], "systemd is the init system and "+b+" is installed"
					break
				}
			}
		}
	}
	if s.flavor == nil {
		var conf []string
		for _, fl := range logindFlavors {
			for _, m := range fl.mainFiles {
				if r.exists(m) {
					conf = append(conf, m)
				}
			}
		}
		s.why = "no systemd-logind or elogind process is running and systemd is not the init system (no /run/systemd/system)"
		if len(conf) > 0 {
			s.why += "; " + strings.Join(conf, ", ") + " exists but nothing reads it"
		}
		return s
	}
	// RemoveIPC=yes is the compiled-in default since systemd 212.
	s.removeIPC = true
	var files []string
	for _, m := range s.flavor.mainFiles {
		if r.exists(m) {
			files = append(files, m)
			break
		}
	}
	for _, cf := range r.confFiles(s.flavor.dropins) {
		if cf.Masked {
			s.problems = append(s.problems, cf.Path+" is masked (symlink to /dev/null)")
			continue
		}
		files = append(files, cf.Path)
	}
	s.files = files
	for _, f := range files {
		b, err := r.readFile(f)
		if err != nil {
			s.problems = append(s.problems, err.Error())
			continue
		}
		as, probs := ParseSystemdConf(b)
		fatal := false
		for _, p := range probs {
			s.problems = append(s.problems, f+": "+p.String())
			fatal = fatal || p.Fatal
		}
		for _, a := range as {
			if a.Section != "Login" || a.Key != "RemoveIPC" {
				continue
			}
			v, err := ParseBool(a.Value)
			if err != nil {
				s.problems = append(s.problems, fmt.Sprintf("%s:%d: RemoveIPC: %v, ignored as logind does", f, a.Line, err))
				continue
			}
			s.removeIPC, s.source = v, fmt.Sprintf("%s:%d", f, a.Line)
		}
		if fatal {
			// logind stops at the first file it cannot parse: later
			// drop-ins are not read.
			break
		}
	}
	return s
}

// checkLogind reports whether systemd-logind would delete this user's
// objects at logout.
func checkLogind(r *runner) Finding {
	if r.env.GOOS != "linux" {
		return r.skipOS("systemd-logind", "Linux")
	}
	s := r.loadLogind()
	if s.flavor == nil {
		return Finding{
			Status:  Skip,
			Summary: "not checked: " + s.why,
			Meaning: "No logind runs here, so nothing removes IPC objects at logout.",
			Remedy:  "None needed; run the doctor on the host (not in a container) to see the host's logind.",
		}
	}
	setting := "RemoveIPC=yes (the default: not set in any of " + fmt.Sprint(len(s.files)) + " logind.conf files)"
	if s.source != "" {
		setting = fmt.Sprintf("RemoveIPC=%s (set in %s)", yesNo(s.removeIPC), s.source)
	}
	summary := s.flavor.name + ": " + setting + "; " + s.why
	if len(s.problems) > 0 {
		summary += "; ignored: " + strings.Join(s.problems, "; ")
	}
	const removes = "logind deletes every POSIX shared-memory object, semaphore and message queue and every SysV IPC object " +
		"a regular user owns when that user's last session ends (logout, an ssh disconnect, a cron job finishing), " +
		"even while processes still use them"
	if !s.removeIPC {
		return Finding{
			Status:  OK,
			Summary: summary,
			Meaning: "logind leaves IPC objects alone when users log out.",
		}
	}
	sys := fmt.Sprintf("system users (uid <= %d, %s)", s.sysMax, s.sysSource)
	switch {
	case r.env.UID < 0:
		return Finding{
			Status:  Warn,
			Summary: summary + "; the current user is unknown",
			Meaning: capitalize(removes) + ". Only " + sys + " are exempt.",
			Remedy:  logindRemedy("the service user"),
		}
	case uint64(r.env.UID) <= uint64(s.sysMax):
		return Finding{
			Status:  OK,
			Summary: summary + "; this process runs as " + r.userDesc() + ", a system user",
			Meaning: capitalize(removes) + ". This user is one of the " + sys + ", which logind exempts, so its objects stay; objects of regular users on this host do not.",
		}
	case r.lingering(s, r.env.User):
		return Finding{
			Status:  OK,
			Summary: fmt.Sprintf("%s; this process runs as %s, a regular user, with lingering enabled (%s/%s)", summary, r.userDesc(), s.flavor.lingerDir, r.env.User),
			Meaning: capitalize(removes) + ". Lingering keeps this user's manager running after logout, so the clean-up does not happen while lingering stays enabled.",
		}
	}
	return Finding{
		Status:  Warn,
		Summary: fmt.Sprintf("%s; this process runs as %s, a regular user (above %d)", summary, r.userDesc(), s.sysMax),
		Meaning: capitalize(removes) + ": named objects vanish from /dev/shm and later opens fail with ENOENT. " +
			"This is the failure PostgreSQL documents for servers run as a regular user. Anonymous objects (memfd) have no name and are not affected.",
		Remedy: logindRemedy(r.env.User),
	}
}

func logindRemedy(user string) string {
	if user == "" {
		user = "USER"
	}
	return "Set RemoveIPC=no: create /etc/systemd/logind.conf.d/shm.conf containing \"[Login]\" and \"RemoveIPC=no\", " +
		"then `systemctl restart systemd-logind`; or run the service as a system user (`useradd --system`); " +
		"or keep the user alive with `loginctl enable-linger " + user + "`."
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
