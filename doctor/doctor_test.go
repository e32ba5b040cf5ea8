package doctor_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/doctor"
	"github.com/shmkit/shm/internal/fence"
)

// doctorIDs is the stable set of check IDs, in report order.
var doctorIDs = []string{
	"anon.strategy", "memfd.noexec", "devshm.size", "logind.removeipc", "tmpfiles.age",
	"openbsd.daily", "netbsd.varshm", "objects.atrisk", "rlimit.nofile", "hugepages.state", "shmdebug.settings",
	"ring.fence",
}

// linuxChecks are the checks that must look (not skip for being on
// another OS) on a Linux host.
var linuxChecks = []string{"anon.strategy", "memfd.noexec", "devshm.size", "logind.removeipc", "tmpfiles.age", "objects.atrisk", "rlimit.nofile", "hugepages.state", "shmdebug.settings", "ring.fence"}

func TestDoctorHost(t *testing.T) {
	rep, err := doctor.Run(context.Background())
	switch runtime.GOOS {
	case "js", "wasip1", "plan9":
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), runtime.GOOS) {
			t.Fatalf("Doctor on %s: %v, want ErrUnsupported naming the OS", runtime.GOOS, err)
		}
	default:
		if err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "windows" {
		// The sections' lifetime is reported; the Unix checks skip.
		if len(rep.Findings) == 0 || rep.Findings[0].ID != "anon.strategy" || rep.Findings[0].Status != doctor.StatusOK ||
			!strings.Contains(rep.Findings[0].Summary, "strategy section") {
			t.Errorf("anon.strategy on windows: %+v", rep.Findings)
		}
	}
	if rep.OS != runtime.GOOS {
		t.Errorf("OS = %q, want %q", rep.OS, runtime.GOOS)
	}
	if len(rep.Findings) != len(doctorIDs) {
		t.Fatalf("%d findings, want %d: %+v", len(rep.Findings), len(doctorIDs), rep.Findings)
	}
	seen := map[string]bool{}
	byID := map[string]doctor.Finding{}
	for i, f := range rep.Findings {
		t.Logf("%-17s %-4s %s", f.ID, f.Status, f.Summary)
		if f.ID != doctorIDs[i] {
			t.Errorf("finding %d is %q, want %q", i, f.ID, doctorIDs[i])
		}
		if seen[f.ID] {
			t.Errorf("ID %q twice", f.ID)
		}
		seen[f.ID] = true
		byID[f.ID] = f
		switch f.Status {
		case doctor.StatusOK, doctor.StatusWarn, doctor.StatusFail, doctor.StatusSkip:
		default:
			t.Errorf("%s: invalid status %q", f.ID, f.Status)
		}
		if strings.TrimSpace(f.Summary) == "" || strings.TrimSpace(f.Meaning) == "" {
			t.Errorf("%s: empty summary or meaning", f.ID)
		}
		if f.Status != doctor.StatusOK && strings.TrimSpace(f.Remedy) == "" {
			t.Errorf("%s: status %s without a remedy", f.ID, f.Status)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	for _, id := range linuxChecks {
		if f := byID[id]; f.Status == doctor.StatusSkip && strings.Contains(f.Summary, "this host runs") {
			t.Errorf("%s skipped on Linux as if on another OS: %s", id, f.Summary)
		}
	}
	for _, id := range []string{"openbsd.daily", "netbsd.varshm"} {
		if byID[id].Status != doctor.StatusSkip {
			t.Errorf("%s on Linux: %s, want skip", id, byID[id].Status)
		}
	}
	// The probe the doctor reports is the route CreateAnon takes.
	o, err := shm.CreateAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if a := byID["anon.strategy"]; a.Status == doctor.StatusSkip || !strings.Contains(a.Summary, `"`+o.Strategy()+`"`) {
		t.Errorf("anon.strategy = %s %q, CreateAnon took %q", a.Status, a.Summary, o.Strategy())
	}
	// ring.fence says what the rings' gates of this process do.
	want := "plain store"
	if err := fence.Err(); err != nil {
		want = "atomic store: " + err.Error()
	}
	if f := byID["ring.fence"]; !strings.Contains(f.Summary, want) {
		t.Errorf("ring.fence = %s %q, want %q", f.Status, f.Summary, want)
	}
}

func TestDoctorJSON(t *testing.T) {
	rep := doctor.Report{OS: "linux", Findings: []doctor.Finding{
		{ID: "devshm.size", Status: doctor.StatusWarn, Summary: "s", Meaning: "m", Remedy: "r"},
		{ID: "rlimit.nofile", Status: doctor.StatusOK, Summary: "s", Meaning: "m"},
		{ID: "objects.atrisk", Status: doctor.StatusWarn, Summary: "s", Meaning: "m", Remedy: "r",
			AtRisk: []doctor.AtRisk{{Path: "/dev/shm/a", Reason: "why"}}, Cleaners: []string{"c"}},
	}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"os":"linux","findings":[` +
		`{"id":"devshm.size","status":"warn","summary":"s","meaning":"m","remedy":"r"},` +
		`{"id":"rlimit.nofile","status":"ok","summary":"s","meaning":"m"},` +
		`{"id":"objects.atrisk","status":"warn","summary":"s","meaning":"m","remedy":"r",` +
		`"at_risk":[{"path":"/dev/shm/a","reason":"why"}],"cleaners":["c"]}]}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	var back doctor.Report
	if err := json.Unmarshal(b, &back); err != nil || back.OS != rep.OS || !reflect.DeepEqual(back.Findings, rep.Findings) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestReportWorst(t *testing.T) {
	rep := func(ss ...doctor.Status) doctor.Report {
		r := doctor.Report{OS: runtime.GOOS}
		for _, s := range ss {
			r.Findings = append(r.Findings, doctor.Finding{Status: s})
		}
		return r
	}
	tests := []struct {
		r    doctor.Report
		want doctor.Status
	}{
		{rep(), doctor.StatusSkip},
		{rep(doctor.StatusSkip, doctor.StatusSkip), doctor.StatusSkip},
		{rep(doctor.StatusSkip, doctor.StatusOK), doctor.StatusOK},
		{rep(doctor.StatusOK, doctor.StatusWarn, doctor.StatusSkip), doctor.StatusWarn},
		{rep(doctor.StatusFail, doctor.StatusWarn, doctor.StatusOK), doctor.StatusFail},
		{rep(doctor.StatusWarn, doctor.StatusFail), doctor.StatusFail},
		{rep(doctor.StatusOK, "bogus", doctor.StatusWarn), "bogus"}, // unknown ranks as fail
	}
	for _, tt := range tests {
		if got := tt.r.Worst(); got != tt.want {
			t.Errorf("Worst(%v) = %q, want %q", tt.r.Findings, got, tt.want)
		}
	}
}

func TestDoctorCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := doctor.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Doctor(canceled) = %d findings, %v; want context.Canceled", len(rep.Findings), err)
	}
}
