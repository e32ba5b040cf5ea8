package main

import (
	"context"
	"fmt"
	"github.com/shmkit/shm/internal/wine"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/doctor"
	hostdoc "github.com/shmkit/shm/internal/doctor"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestBuiltinRisk(t *testing.T) {
	day := 24 * time.Hour
	obj := func(atime time.Duration) shm.ObjectInfo {
		return shm.ObjectInfo{Path: "/tmp/x.shm", Atime: epoch.Add(-atime), Mtime: epoch, Ctime: epoch}
	}
	openbsd := newJudge("openbsd", "/tmp", nil)
	linux := newJudge("linux", "/dev/shm", nil)
	for _, c := range []struct {
		j    *judge
		info shm.ObjectInfo
		want string
	}{
		{openbsd, obj(9 * day), "atime 9d > daily's 7d"},
		{openbsd, obj(7*day + time.Second), "atime 7d > daily's 7d"},
		{openbsd, obj(7 * day), "ok"},
		{openbsd, obj(time.Hour), "ok"},
		{openbsd, shm.ObjectInfo{}, "unknown (no atime)"},
		{linux, obj(90 * day), "-"},
	} {
		if got := c.j.judge(c.info, epoch); got != c.want {
			t.Errorf("%s judge(atime %v ago) = %q; want %q", c.j.source, epoch.Sub(c.info.Atime), got, c.want)
		}
	}
	if !strings.HasPrefix(openbsd.source, "built-in rule") || !strings.HasPrefix(linux.source, "none") {
		t.Errorf("sources %q, %q", openbsd.source, linux.source)
	}
}

func report(goos string, f ...doctor.Finding) *doctor.Report {
	return &doctor.Report{OS: goos, Findings: f}
}

func TestDoctorRisk(t *testing.T) {
	at := func(p string) shm.ObjectInfo {
		return shm.ObjectInfo{Path: p, Atime: epoch, Mtime: epoch, Ctime: epoch}
	}
	cleaners := []string{"tmpfiles ages /dev/shm after 1d", "logind RemoveIPC"}
	warn := doctor.Finding{ID: atRiskID, Status: doctor.StatusWarn,
		Summary: "2 of 3 named objects in /dev/shm are at risk: (the summary is for people; the judge reads AtRisk)",
		AtRisk: []doctor.AtRisk{
			{Path: "/dev/shm/a", Reason: "idle 9d > 1d, tmpfiles deletes it"},
			{Path: "/dev/shm/b", Reason: "owned by regular user uid 1000 (alice), removed by logind at that user's logout"},
			{Path: "/elsewhere/c", Reason: "an object of another directory"},
		},
		Cleaners: cleaners}
	j := newJudge("linux", "/dev/shm", report("linux", warn))
	for p, want := range map[string]string{
		"/dev/shm/a":  "idle 9d > 1d, tmpfiles deletes it",
		"/dev/shm/b":  "owned by regular user uid 1000 (alice), removed by logind at that user's logout",
		"/dev/shm/c":  "ok",
		"/dev/shm/ab": "ok",
	} {
		if got := j.judge(at(p), epoch); got != want {
			t.Errorf("judge(%s) = %q; want %q", p, got, want)
		}
	}
	// Every object at risk is known, even beyond what the summary names.
	var many []doctor.AtRisk
	for i := range 30 {
		many = append(many, doctor.AtRisk{Path: fmt.Sprintf("/dev/shm/o%d", i), Reason: fmt.Sprintf("reason %d", i)})
	}
	more := doctor.Finding{ID: atRiskID, Status: doctor.StatusWarn, Summary: "30 of 40 ...; and 20 more", AtRisk: many, Cleaners: cleaners}
	j = newJudge("linux", "/dev/shm", report("linux", more))
	if got := j.judge(at("/dev/shm/o29"), epoch); got != "reason 29" {
		t.Errorf("the 30th object at risk: %q; want its reason", got)
	}
	none := doctor.Finding{ID: atRiskID, Status: doctor.StatusOK, Summary: "3 named objects in /dev/shm, none at risk; no active cleaner applies to them"}
	if got := newJudge("linux", "/dev/shm", report("linux", none)).judge(at("/dev/shm/a"), epoch); got != "-" {
		t.Errorf("no cleaner: %q; want -", got)
	}
	safe := doctor.Finding{ID: atRiskID, Status: doctor.StatusOK, Summary: "3 named objects, none at risk", Cleaners: cleaners}
	if got := newJudge("linux", "/dev/shm", report("linux", safe)).judge(at("/dev/shm/a"), epoch); got != "ok" {
		t.Errorf("a cleaner that spares the object: %q; want ok", got)
	}
	// A doctor report about another OS's objects, or a skipped check,
	// leaves the built-in rules in charge.
	skip := doctor.Finding{ID: atRiskID, Status: doctor.StatusSkip, Summary: "not checked"}
	old := shm.ObjectInfo{Path: "/tmp/x.shm", Atime: epoch.Add(-30 * 24 * time.Hour)}
	for _, rep := range []*doctor.Report{report("linux", warn), report("openbsd", skip), nil} {
		j := newJudge("openbsd", "/tmp", rep)
		if got := j.judge(old, epoch); got != "atime 30d > daily's 7d" {
			t.Errorf("report %+v: judge = %q; want the built-in rule", rep, got)
		}
	}
}

// runFixture runs the library's doctor on a fixture host and returns its
// report as doctor.Run would.
func runFixture(t *testing.T, env hostdoc.Env) *doctor.Report {
	t.Helper()
	fs, err := hostdoc.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	rep := &doctor.Report{OS: env.GOOS}
	for _, f := range fs {
		var risky []doctor.AtRisk
		for _, a := range f.AtRisk {
			risky = append(risky, doctor.AtRisk{Path: a.Path, Reason: a.Reason})
		}
		rep.Findings = append(rep.Findings, doctor.Finding{ID: f.ID, Status: doctor.Status(f.Status), Summary: f.Summary,
			Meaning: f.Meaning, Remedy: f.Remedy, AtRisk: risky, Cleaners: f.Cleaners})
	}
	return rep
}

func put(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorContractOpenBSD checks the risk column against what the real
// doctor says about a fixture OpenBSD host whose daily(8) (revision 1.95)
// deletes .shm files: if the doctor's wording changes, this fails.
func TestDoctorContractOpenBSD(t *testing.T) {
	wine.SkipTempDir(t)
	root := t.TempDir()
	daily, err := os.ReadFile("../../internal/doctor/testdata/daily/openbsd-1.95")
	if err != nil {
		t.Skipf("no daily(8) fixture from the doctor: %v", err)
	}
	put(t, filepath.Join(root, "etc/daily"), string(daily))
	hash := strings.Repeat("ab", 32)
	put(t, filepath.Join(root, "tmp", hash+".shm"), "x")
	rep := runFixture(t, hostdoc.Env{Root: root, GOOS: "openbsd", Now: time.Now().Add(10 * 24 * time.Hour), UID: 0})
	j := newJudge("openbsd", "/tmp", rep)
	if !j.doctor {
		t.Fatalf("the doctor's %s finding was not used: %+v", atRiskID, rep.Findings)
	}
	got := j.judge(shm.ObjectInfo{Path: "/tmp/" + hash + ".shm"}, time.Now())
	t.Logf("risk: %s", got)
	if got == "ok" || got == "-" || strings.HasPrefix(got, "unknown") || !strings.Contains(got, "daily") {
		t.Errorf("risk of a .shm idle for 10 days under daily 1.95: %q; want the doctor's reason", got)
	}
	if other := j.judge(shm.ObjectInfo{Path: "/tmp/" + strings.Repeat("cd", 32) + ".shm"}, time.Now()); other != "ok" {
		t.Errorf("risk of an object the doctor did not list: %q; want ok", other)
	}
}

// TestDoctorContractLogind does the same for a Linux host where
// systemd-logind runs with RemoveIPC (its default) and a regular user owns
// an object: the reason holds parentheses of its own.
func TestDoctorContractLogind(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a fixture object to another uid")
	}
	root := t.TempDir()
	put(t, filepath.Join(root, "proc/1/comm"), "systemd-logind\n")
	put(t, filepath.Join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
	put(t, filepath.Join(root, "dev/shm/alice.obj"), "x")
	put(t, filepath.Join(root, "dev/shm/root.obj"), "x")
	if err := os.Chown(filepath.Join(root, "dev/shm/alice.obj"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	rep := runFixture(t, hostdoc.Env{Root: root, GOOS: "linux", Now: time.Now(), UID: 0, User: "root"})
	j := newJudge("linux", "/dev/shm", rep)
	if !j.doctor {
		t.Fatalf("the doctor's %s finding was not used: %+v", atRiskID, rep.Findings)
	}
	got := j.judge(shm.ObjectInfo{Path: "/dev/shm/alice.obj"}, time.Now())
	t.Logf("risk: %s", got)
	if !strings.Contains(got, "logind") || !strings.Contains(got, "alice") || strings.HasSuffix(got, "; ") {
		t.Errorf("risk of alice's object: %q; want the doctor's logind reason", got)
	}
	if other := j.judge(shm.ObjectInfo{Path: "/dev/shm/root.obj"}, time.Now()); other != "ok" {
		t.Errorf("risk of root's object: %q; want ok", other)
	}
}
