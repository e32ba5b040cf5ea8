package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/shmkit/shm/doctor"
)

// doctorReport runs the doctor for the risk column of ls and stat; nil if
// it could not run.
func doctorReport(ctx context.Context) *doctor.Report {
	rep, err := doctor.Run(ctx)
	if err != nil {
		return nil
	}
	return &rep
}

// doctorJSON is the JSON of shm doctor.
type doctorJSON struct {
	OS       string           `json:"os"`
	Worst    doctor.Status    `json:"worst"`
	Findings []doctor.Finding `json:"findings"`
}

var cmdDoctor = &command{
	name:    "doctor",
	args:    "[--size SIZE] [--json]",
	summary: "find what on this host would delete or break shared memory",
	help: `
Examine this host for what would delete, break or starve shared-memory
objects: cleaners (systemd-logind's RemoveIPC, systemd-tmpfiles aging,
OpenBSD's daily(8)), a small or missing /dev/shm, NetBSD's /var/shm,
vm.memfd_noexec, the descriptor limit, the named objects at risk now, and
on Linux the huge pages large objects can get (hugetlb pools, the
transparent huge page mode of shared memory), and the SHMDEBUG settings in
force. With --size, it checks the
host against objects of that size: free huge pages, /dev/shm's room. The
doctor only reads; it changes nothing.

Each check prints its status (ok, warn, fail, or skip when it does not
apply here), its ID, and what it found, followed by what that means and
what to do. The exit status is 1 if any check failed, else 0.

With --json the output is {"os", "worst", "findings": [{"id", "status",
"summary", "meaning", "remedy"}]}; remedy is left out when there is none.
objects.atrisk adds "at_risk": [{"path", "reason"}], every object a cleaner
would delete (the summary names ten at most), and "cleaners", the active
cleaners that apply; both are left out when empty.`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		asJSON := flags.Bool("json", false, "print JSON")
		size := &sizeFlag{}
		flags.Var(size, "size", "size of the objects you mean to make: "+sizeHelp)
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		rep, err := doctor.Run(ctx, doctor.Size(size.n))
		if len(rep.Findings) > 0 {
			if *asJSON {
				if werr := writeJSON(e.stdout, doctorJSON{OS: rep.OS, Worst: rep.Worst(), Findings: rep.Findings}); werr != nil {
					return werr
				}
			} else {
				printReport(e.stdout, rep)
			}
		}
		if err != nil {
			return fmt.Errorf("doctor: %w", err)
		}
		if rep.Worst() == doctor.StatusFail {
			return &exitError{code: 1}
		}
		return nil
	},
}

// printReport prints the findings as aligned columns STATUS ID SUMMARY,
// each followed by its meaning and remedy, indented under the summary.
func printReport(w io.Writer, rep doctor.Report) {
	sw, iw := len("STATUS"), len("ID")
	counts := map[doctor.Status]int{}
	for _, f := range rep.Findings {
		sw = max(sw, len(f.Status))
		iw = max(iw, len(f.ID))
		counts[f.Status]++
	}
	indent := strings.Repeat(" ", sw+2+iw+2)
	fmt.Fprintf(w, "%-*s  %-*s  %s\n", sw, "STATUS", iw, "ID", "SUMMARY")
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "%-*s  %-*s  %s\n", sw, f.Status, iw, f.ID, f.Summary)
		if f.Meaning != "" {
			fmt.Fprintf(w, "%smeaning: %s\n", indent, f.Meaning)
		}
		if f.Remedy != "" && f.Status != doctor.StatusOK && f.Status != doctor.StatusSkip {
			fmt.Fprintf(w, "%sremedy:  %s\n", indent, f.Remedy)
		}
	}
	fmt.Fprintf(w, "\n%s: worst status %s (%d ok, %d warn, %d fail, %d skipped)\n",
		rep.OS, rep.Worst(), counts[doctor.StatusOK], counts[doctor.StatusWarn], counts[doctor.StatusFail], counts[doctor.StatusSkip])
}
