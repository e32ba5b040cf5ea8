package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/doctor"
)

// A cleaner is something on the host that deletes named objects it deems
// unused: the risk column of shm ls compares each object with it.
type cleaner struct {
	Name   string        // what deletes: "OpenBSD daily(8)"
	Short  string        // in the risk column: "daily"
	Field  string        // the time it looks at: "atime" or "last use"
	MaxAge time.Duration // older than this is deleted
	Source string        // where the rule comes from
}

// Fields a cleaner can look at.
const (
	fieldAtime   = "atime"    // last access
	fieldLastUse = "last use" // newest of access, modification and change (systemd-tmpfiles)
)

// builtinCleaners returns the cleaners shm knows of without asking the
// doctor, for objects of the given OS rules: OpenBSD's daily(8) deletes
// files in /tmp not accessed for more than 7 days (releases since about
// 2021 spare *.shm and *.sem; older ones do not, and shm cannot tell the
// release from here, so the rule is kept).
func builtinCleaners(rulesOS string) []cleaner {
	if rulesOS == "openbsd" {
		return []cleaner{{Name: "OpenBSD daily(8) /tmp sweep", Short: "daily", Field: fieldAtime,
			MaxAge: 7 * 24 * time.Hour, Source: "built-in rule (daily(8) before 2021 deletes /tmp files with atime older than 7 days)"}}
	}
	return nil
}

// lastTime is the time c looks at for info.
func (c cleaner) lastTime(info shm.ObjectInfo) time.Time {
	if c.Field == fieldAtime {
		return info.Atime
	}
	t := info.Atime
	if info.Mtime.After(t) {
		t = info.Mtime
	}
	if info.Ctime.After(t) {
		t = info.Ctime
	}
	return t
}

// risk judges info against the cleaners: "-" when no cleaner is known,
// "ok" when none would delete it, else why, for example
// "atime 9d > daily's 7d".
func risk(info shm.ObjectInfo, cleaners []cleaner, now time.Time) string {
	if len(cleaners) == 0 {
		return "-"
	}
	for _, c := range cleaners {
		t := c.lastTime(info)
		if t.IsZero() {
			return "unknown (no " + c.Field + ")"
		}
		if age := now.Sub(t); age > c.MaxAge {
			return fmt.Sprintf("%s %s > %s's %s", c.Field, formatAge(age), c.Short, formatAge(c.MaxAge))
		}
	}
	return "ok"
}

// A judge decides the risk column. It trusts the doctor's objects.atrisk
// finding when the doctor examined the objects being listed, and falls
// back to the built-in rules otherwise.
type judge struct {
	builtin []cleaner
	source  string // where the judgement comes from, for JSON
	// From the doctor, when its finding applies:
	doctor    bool
	atRisk    map[string]string // base name in one of dirs -> the doctor's reason
	noCleaner bool              // the doctor knows no cleaner for these objects
}

// atRiskID is the doctor's check of objects present now.
const atRiskID = "objects.atrisk"

// newJudge prepares the risk column for objects following rulesOS's rules
// in dir. rep is the doctor's report, or nil when it is not available.
func newJudge(rulesOS, dir string, rep *doctor.Report) *judge {
	j := &judge{builtin: builtinCleaners(rulesOS)}
	j.source = "none: no cleaner is known for these objects"
	if len(j.builtin) > 0 {
		j.source = "built-in rule: " + j.builtin[0].Source
	}
	if rep == nil || doctorOS(rep.OS) != rulesOS || dir == "" {
		return j
	}
	dirs := map[string]bool{filepath.Clean(dir): true}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dirs[real] = true
	}
	for _, f := range rep.Findings {
		if f.ID != atRiskID || (f.Status != doctor.StatusOK && f.Status != doctor.StatusWarn) {
			continue
		}
		j.doctor = true
		j.source = "shm doctor, finding " + atRiskID
		j.noCleaner = len(f.Cleaners) == 0
		j.atRisk = map[string]string{}
		for _, a := range f.AtRisk {
			if dirs[filepath.Dir(a.Path)] {
				j.atRisk[filepath.Base(a.Path)] = a.Reason
			}
		}
	}
	return j
}

// doctorOS maps a GOOS to the name of the rules it follows.
func doctorOS(goos string) string {
	if goos == "illumos" {
		return "solaris"
	}
	return goos
}

// judge returns the risk column for info.
func (j *judge) judge(info shm.ObjectInfo, now time.Time) string {
	if !j.doctor {
		return risk(info, j.builtin, now)
	}
	if r, ok := j.atRisk[filepath.Base(info.Path)]; ok {
		return r
	}
	if j.noCleaner {
		return "-"
	}
	return "ok"
}
