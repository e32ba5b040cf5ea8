// Package doctor examines a host for what would delete, break or starve
// the shared-memory objects of package shm: cleaners (systemd-tmpfiles,
// logind's RemoveIPC, OpenBSD's daily(8)), a small or missing /dev/shm, a
// low descriptor limit, huge-page pools, the route anonymous objects take,
// and the SHMDEBUG settings in force. A daemon may run it at start-up;
// `shm doctor` prints its report.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/shmkit/shm"
	host "github.com/shmkit/shm/internal/doctor"
	"github.com/shmkit/shm/internal/fence"
	"github.com/shmkit/shm/internal/shmdebug"
)

// Status is the outcome of one [Run] check.
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
func (s Status) rank() int { return host.Status(s).Rank() }

// A Finding is the result of one [Run] check. Its JSON form is stable
// (the field names below) for `shm doctor --json` and other tools.
type Finding struct {
	// ID names the check and is stable: "anon.strategy", "memfd.noexec",
	// "devshm.size", "logind.removeipc", "tmpfiles.age", "openbsd.daily",
	// "netbsd.varshm", "objects.atrisk", "rlimit.nofile", "hugepages.state",
	// "shmdebug.settings", "ring.fence".
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
// objects.atrisk check of [Run].
type AtRisk struct {
	// Path is the object's file: /dev/shm/NAME on Linux,
	// /tmp/<sha256>.shm on OpenBSD.
	Path string `json:"path"`
	// Reason says which cleaner would delete it and why, e.g.
	// "last use 12d ago > 10d, tmpfiles deletes it".
	Reason string `json:"reason"`
}

// A Report is the result of [Run]: one finding per check, always the
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

// Run examines this host for what would delete, break or starve
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
//     size) and shmem_enabled, what [shm.HugePageSize] and
//     [shm.HugePages] can get here, and, given [Size], whether a pool and
//     /dev/shm hold that much;
//   - shmdebug.settings: the SHMDEBUG settings in force, and any it ignored for
//     not knowing them;
//   - ring.fence: whether the gates of rings let go with a plain store
//     (Linux on amd64, once membarrier(2) is registered: it registers
//     this process) or an atomic one, and why.
//
// Run changes nothing on the host: it reads configuration files,
// /proc and /dev/shm, and creates and closes one anonymous object. It returns ctx's
// error if ctx is done before all checks ran, with the findings so far.
// On windows anon.strategy says what decides a section's lifetime there
// and the other checks, which concern Unix hosts, are skipped. On
// systems without shared memory in shm (js, wasip1) it returns a report
// whose checks are all skipped and an error wrapping
// [errors.ErrUnsupported].
func Run(ctx context.Context, opts ...Option) (Report, error) {
	env := host.Host()
	for _, o := range opts {
		if o != nil {
			o.apply(&env)
		}
	}
	if host.Supported(env.GOOS) || env.GOOS == "windows" {
		env.AnonProbe = probeAnon
	}
	env.Debug = shmdebug.Value()
	_, env.DebugErr = shmdebug.Get()
	env.FenceProbe = fence.Err
	fs, err := host.Run(ctx, env)
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
	if !host.Supported(env.GOOS) && env.GOOS != "windows" {
		return rep, fmt.Errorf("doctor: Run is not supported on %s/%s: %w", runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
	}
	return rep, nil
}

// probeAnon creates and closes a one-page anonymous object and reports the
// strategy this host gets.
func probeAnon() (string, error) {
	o, err := shm.CreateAnon(int64(os.Getpagesize()))
	if err != nil {
		return "", err
	}
	defer o.Close()
	return o.Strategy(), nil
}

// An Option tells [Run] more about what the caller means to do.
type Option interface {
	apply(*host.Env)
}

type size uint64

func (s size) apply(e *host.Env) { e.WantSize = uint64(s) }

// Size tells [Run] the size of the objects the caller means to make, in
// bytes: hugepages.state then says whether a hugetlb pool has that much
// free, whether transparent huge pages are open to it, and whether
// /dev/shm holds a named object that large. A size of 0 or less says
// nothing.
func Size(n int64) Option { return size(max(n, 0)) }
