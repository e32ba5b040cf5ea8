package shm

import (
	"context"

	"github.com/shmkit/shm/internal/doctor"
)

// Status is the outcome of one [Doctor] check.
type Status string

// The statuses of a [Finding], from least to most severe.
const (
	// StatusSkip: the check cannot run on this host (another OS, no
	// permission, nothing to look at); the summary says why. A skipped
	// check never claims that all is well.
	StatusSkip Status = "skip"
	// StatusOK: the check looked and found nothing that harms shared memory.
	StatusOK Status = "ok"
	// StatusWarn: something can delete, starve or break objects under
	// some conditions (a cleaner, a small /dev/shm, a low limit).
	StatusWarn Status = "warn"
	// StatusFail: shared memory does not work as it should here (no
	// /dev/shm, no NetBSD /var/shm tmpfs, anonymous objects failing).
	StatusFail Status = "fail"
)

// rank orders statuses: skip < ok < warn < fail; unknown ones rank as fail.
func (s Status) rank() int { return doctor.Status(s).Rank() }

// A Finding is the result of one [Doctor] check. Its JSON form is stable
// (the field names below) for `shm doctor --json` and other tools.
type Finding struct {
	// ID names the check and is stable: "anon.strategy", "memfd.noexec",
	// "devshm.size", "logind.removeipc", "tmpfiles.age", "openbsd.daily",
	// "netbsd.varshm", "objects.atrisk", "rlimit.nofile", "hugepages.state".
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Summary is what was found, with the numbers and paths.
	Summary string `json:"summary"`
	// Meaning is what that means for shared memory.
	Meaning string `json:"meaning"`
	// Remedy is what to do about it; set whenever Status is not OK.
	Remedy string `json:"remedy,omitempty"`

	// AtRisk is set by objects.atrisk when it looked (status ok or warn):
	// every named object present now that a cleaner would delete, not
	// only the ones Summary names.
	AtRisk []AtRisk `json:"at_risk,omitempty"`
	// Cleaners is set by objects.atrisk when it looked: the active
	// cleaners that apply to named objects on this host. Empty: nothing
	// ages them.
	Cleaners []string `json:"cleaners,omitempty"`
}

// An AtRisk is a named object that a cleaner would delete, found by the
// objects.atrisk check of [Doctor].
type AtRisk struct {
	// Path is the object's file: /dev/shm/NAME on Linux,
	// /tmp/<sha256>.shm on OpenBSD.
	Path string `json:"path"`
	// Reason says which cleaner would delete it and why, e.g.
	// "last use 12d ago > 10d, tmpfiles deletes it".
	Reason string `json:"reason"`
}

// A Report is the result of [Doctor]: one finding per check, always the
// same checks in the same order, whatever the OS (checks for other
// systems are skipped).
type Report struct {
	OS       string    `json:"os"` // runtime.GOOS of the host examined
	Findings []Finding `json:"findings"`
}

// Worst returns the most severe status in the report: fail, then warn,
// then ok; skip only when every check was skipped or there are none.
func (r Report) Worst() Status {
	worst := StatusSkip
	for _, f := range r.Findings {
		if f.Status.rank() > worst.rank() {
			worst = f.Status
		}
	}
	return worst
}

// Doctor examines this host for what would delete, break or starve
// shared-memory objects, and reports one [Finding] per check:
//
//   - anon.strategy: which route anonymous objects take here (it creates
//     and closes one small anonymous object);
//   - memfd.noexec: Linux's vm.memfd_noexec, which can make memfd_create
//     without MFD_NOEXEC_SEAL fail;
//   - devshm.size: Linux's /dev/shm: present, tmpfs, size (containers
//     get 64 MiB), free space, mode 1777;
//   - logind.removeipc: systemd-logind's RemoveIPC, which deletes a
//     regular user's objects when that user logs out;
//   - tmpfiles.age: systemd-tmpfiles rules that age /dev/shm or /tmp;
//   - openbsd.daily: daily(8)'s /tmp sweep and whether it spares *.shm;
//   - netbsd.varshm: the /var/shm tmpfs NetBSD's shm_open requires;
//   - objects.atrisk: named objects present now that a cleaner found
//     above would delete;
//   - rlimit.nofile: the descriptor limit;
//   - hugepages.state: Linux's hugetlb pools (reserved and free pages per
//     size) and shmem_enabled, what [HugePageSize] and [HugePages] can
//     get here, and, given [DoctorSize], whether a pool and /dev/shm hold
//     that much.
//
// Doctor changes nothing on the host: it reads configuration files,
// /proc and /dev/shm, and creates and closes one anonymous object. It returns ctx's
// error if ctx is done before all checks ran, with the findings so far.
// On windows anon.strategy says what decides a section's lifetime there
// and the other checks, which concern Unix hosts, are skipped. On
// systems without shared memory in shm (js, wasip1) it returns a report
// whose checks are all skipped and an error wrapping
// [errors.ErrUnsupported].
func Doctor(ctx context.Context, opts ...DoctorOption) (Report, error) {
	env := doctor.Host()
	for _, o := range opts {
		if o != nil {
			o.applyDoctor(&env)
		}
	}
	if doctor.Supported(env.GOOS) || env.GOOS == "windows" {
		env.AnonProbe = probeAnon
	}
	fs, err := doctor.Run(ctx, env)
	rep := Report{OS: env.GOOS, Findings: make([]Finding, 0, len(fs))}
	for _, f := range fs {
		var risky []AtRisk
		for _, a := range f.AtRisk {
			risky = append(risky, AtRisk{Path: a.Path, Reason: a.Reason})
		}
		rep.Findings = append(rep.Findings, Finding{
			ID:       f.ID,
			Status:   Status(f.Status),
			Summary:  f.Summary,
			Meaning:  f.Meaning,
			Remedy:   f.Remedy,
			AtRisk:   risky,
			Cleaners: f.Cleaners,
		})
	}
	if err != nil {
		return rep, err
	}
	if !doctor.Supported(env.GOOS) && env.GOOS != "windows" {
		return rep, errUnsupported("Doctor")
	}
	return rep, nil
}

// A DoctorOption tells [Doctor] more about what the caller means to do.
type DoctorOption interface {
	applyDoctor(*doctor.Env)
}

type doctorSize uint64

func (d doctorSize) applyDoctor(e *doctor.Env) { e.WantSize = uint64(d) }

// DoctorSize tells [Doctor] the size of the objects the caller means to
// make, in bytes: hugepages.state then says whether a hugetlb pool has
// that much free, whether transparent huge pages are open to it, and
// whether /dev/shm holds a named object that large. A size of 0 or less
// says nothing.
func DoctorSize(size int64) DoctorOption { return doctorSize(max(size, 0)) }
