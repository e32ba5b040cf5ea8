package doctor_test

import (
	"context"
	"fmt"

	"github.com/shmkit/shm/doctor"
)

// Run reports what on this host could delete, break or starve shared
// memory. The findings depend on the host, so this example shows no
// output; `shm doctor` prints the same report.
func ExampleRun() {
	rep, err := doctor.Run(context.Background())
	if err != nil {
		fmt.Println("doctor:", err)
		return
	}
	for _, f := range rep.Findings {
		if f.Status == doctor.StatusOK || f.Status == doctor.StatusSkip {
			continue
		}
		fmt.Printf("%s %s: %s\n  why: %s\n  fix: %s\n", f.Status, f.ID, f.Summary, f.Meaning, f.Remedy)
	}
	fmt.Println("worst:", rep.Worst())
}
