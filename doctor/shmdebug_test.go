package doctor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shm/doctor"
	"github.com/shmkit/shm/internal/shmdebug"
	"github.com/shmkit/shm/internal/testenv"
)

// printEnv makes the test binary, re-executed by TestShmdebugReported,
// print its report as JSON instead of running the tests.
const printEnv = "DOCTOR_TEST_PRINT"

func TestMain(m *testing.M) {
	if os.Getenv(printEnv) != "" {
		rep, err := doctor.Run(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		json.NewEncoder(os.Stdout).Encode(rep)
		os.Exit(0)
	}
	// Under -race, children exit without the race runtime's one-second sleep.
	testenv.NoRaceExitSleep()
	os.Exit(m.Run())
}

// TestShmdebugReported runs the doctor in processes started with
// SHMDEBUG set: the shmdebug finding shows what is in force, and warns,
// naming them, of settings it ignored.
func TestShmdebugReported(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "js", "wasip1", "plan9":
		t.Skipf("%s has no shared memory: the check is skipped", runtime.GOOS)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		value   string
		status  doctor.Status
		summary []string
	}{
		{"", doctor.StatusOK, []string{"not set"}},
		{"futex=poll,owner=fcntl", doctor.StatusOK, []string{`"futex=poll,owner=fcntl" is in force`}},
		{"anon=bogus,colour=blue,futex=poll", doctor.StatusWarn, []string{`anon="bogus": want memfd or tmpfile or random`, `unknown key "colour"`}},
	} {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), printEnv+"=1", shmdebug.Var+"="+tt.value)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("SHMDEBUG=%q: %v\n%s", tt.value, err, out)
		}
		var rep doctor.Report
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("SHMDEBUG=%q: %v\n%s", tt.value, err, out)
		}
		var f *doctor.Finding
		for i := range rep.Findings {
			if rep.Findings[i].ID == "shmdebug.settings" {
				f = &rep.Findings[i]
			}
		}
		if f == nil {
			t.Fatalf("SHMDEBUG=%q: no shmdebug finding in %s", tt.value, out)
		}
		if f.Status != tt.status {
			t.Errorf("SHMDEBUG=%q: status %s, want %s (%s)", tt.value, f.Status, tt.status, f.Summary)
		}
		for _, s := range tt.summary {
			if !strings.Contains(f.Summary, s) {
				t.Errorf("SHMDEBUG=%q: summary %q lacks %q", tt.value, f.Summary, s)
			}
		}
		if f.Status != doctor.StatusOK && f.Remedy == "" {
			t.Errorf("SHMDEBUG=%q: no remedy", tt.value)
		}
	}
}
