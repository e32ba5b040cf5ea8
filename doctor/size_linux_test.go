package doctor_test

import (
	"strings"
	"testing"

	"github.com/shmkit/shm/doctor"
)

// TestSize checks that Size reaches hugepages.state.
func TestSize(t *testing.T) {
	rep, err := doctor.Run(t.Context(), doctor.Size(1<<40))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.ID == "hugepages.state" {
			t.Logf("%s %s", f.Status, f.Summary)
			if !strings.Contains(f.Summary, "asked for 1.0 TiB") || f.Status != doctor.StatusWarn {
				t.Errorf("hugepages.state with Size(1 TiB): %s %q", f.Status, f.Summary)
			}
			return
		}
	}
	t.Error("no hugepages.state finding")
}
