package main

import (
	"fmt"
	"os"
	"time"

	"github.com/shmkit/shm"
	hostdoc "github.com/shmkit/shm/internal/doctor"
	"golang.org/x/sys/unix"
)

// touchPages writes one byte in every page of b.
func touchPages(b []byte) {
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
}

// largeVariant is one way of getting size bytes from nothing to every
// page written once; run returns the CPU time it took (user and system, of
// every thread of this process, or of the C process: Populate prefaults
// on several threads) and the time elapsed (0 when unknown).
type largeVariant struct {
	name string
	why  string // set when it cannot run on this host
	run  func(size int64) (cpu, wall time.Duration, err error)
}

// timed runs fn and returns the CPU time this process used meanwhile (all
// its threads: getrusage RUSAGE_SELF) and the time elapsed.
func timed(fn func() error) (cpu, wall time.Duration, err error) {
	c0, err := cpuTime()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err = fn(); err != nil {
		return 0, 0, err
	}
	wall = time.Since(start)
	c1, err := cpuTime()
	return c1 - c0, wall, err
}

// shmLarge is CreateAnon with aopts, Map with mopts, a touch of every
// page, and Close of both.
func shmLarge(aopts []shm.AnonOption, mopts ...shm.MapOption) func(int64) (time.Duration, time.Duration, error) {
	return func(size int64) (time.Duration, time.Duration, error) {
		return timed(func() error {
			o, err := shm.CreateAnon(size, aopts...)
			if err != nil {
				return err
			}
			defer o.Close()
			m, err := o.Map(mopts...)
			if err != nil {
				return err
			}
			touchPages(m.Bytes())
			if err := m.Close(); err != nil {
				return err
			}
			return o.Close()
		})
	}
}

// rawLarge is the same with bare system calls: memfd_create, ftruncate,
// mmap, the touch, munmap, close.
func rawLarge(size int64) (time.Duration, time.Duration, error) {
	return timed(func() error {
		fd, err := unix.MemfdCreate("raw", unix.MFD_CLOEXEC)
		if err != nil {
			return os.NewSyscallError("memfd_create", err)
		}
		defer unix.Close(fd)
		if err := unix.Ftruncate(fd, size); err != nil {
			return os.NewSyscallError("ftruncate", err)
		}
		b, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return os.NewSyscallError("mmap", err)
		}
		touchPages(b)
		return unix.Munmap(b)
	})
}

// largeVariants lists the variants, saying for each that this host
// cannot run why.
func (b *bencher) largeVariants(size int64) []largeVariant {
	thpWhy := ""
	if mode, err := hostdoc.ReadShmemEnabled("/"); err != nil {
		thpWhy = "no transparent huge pages: " + err.Error()
	} else if !hostdoc.ShmemFollowsAdvice(mode) {
		thpWhy = fmt.Sprintf("shmem_enabled=%s ignores MADV_HUGEPAGE: `echo advise > %s` to measure it", mode, hostdoc.ShmemEnabledPath)
	}
	tlbWhy := ""
	def, err := hostdoc.ReadDefaultHugePageSize("/")
	pools, perr := hostdoc.ReadHugePools("/")
	switch {
	case err != nil:
		tlbWhy = err.Error()
	case perr != nil:
		tlbWhy = perr.Error()
	default:
		tlbWhy = fmt.Sprintf("no %s hugetlb pool", hostdoc.FormatBytes(def))
		for _, p := range pools {
			if p.PageSize == def {
				need := (uint64(size) + def - 1) / def
				tlbWhy = ""
				if p.Available() < need {
					tlbWhy = fmt.Sprintf("%d free %s hugetlb pages, %d needed: %s to measure it", p.Available(), hostdoc.FormatBytes(def), need,
						hostdoc.HugePoolRemedy(def, def, p.Total-min(p.Total, p.Available())+need))
				}
			}
		}
	}
	var cpeerRun func(int64) (time.Duration, time.Duration, error)
	cWhy := ""
	if size != 1<<30 {
		cWhy = "the C peer maps 1 GiB only"
	} else if p, err := b.cPeer(); err != nil {
		cWhy = err.Error()
	} else {
		cpeerRun = func(int64) (time.Duration, time.Duration, error) {
			ns, err := p.RunContext(b.ctx, "touch1g", 1)
			return time.Duration(ns), 0, err
		}
	}
	return []largeVariant{
		{name: "raw Go memfd+mmap+touch", run: rawLarge},
		{name: "C memfd+mmap+touch", why: cWhy, run: cpeerRun},
		{name: "plain", run: shmLarge(nil)},
		{name: "Populate", run: shmLarge(nil, shm.Populate())},
		{name: "HugePages (THP)", why: thpWhy, run: shmLarge(nil, shm.HugePages())},
		{name: "HugePages+Populate (THP)", why: thpWhy, run: shmLarge(nil, shm.HugePages(), shm.Populate())},
		{name: "HugePageSize (hugetlb)", why: tlbWhy, run: shmLarge([]shm.AnonOption{shm.HugePageSize(0)})},
	}
}

// large measures size bytes from CreateAnon to every page written once,
// for each variant, one at a time (each frees its memory before the next
// starts), rounds times in turn. The row's figure is the process's CPU
// time, fastest of the rounds; its note gives the elapsed time, fastest of
// the rounds too, and its ratio to plain's, on which the targets
// ("usable in") are judged.
func (b *bencher) large(size int64, rounds int) ([]benchRow, error) {
	if size <= 0 {
		return nil, nil
	}
	vs := b.largeVariants(size)
	best := make([]time.Duration, len(vs))
	wall := make([]time.Duration, len(vs))
	for range rounds {
		for i, v := range vs {
			if v.why != "" {
				continue
			}
			if err := b.ctx.Err(); err != nil {
				return nil, err
			}
			if why := memoryShort(size, i == len(vs)-1); why != "" {
				if best[i] == 0 {
					vs[i].why = why
				}
				continue
			}
			d, w, err := v.run(size)
			if err != nil {
				// The host's state changes under a long run (other work
				// takes memory); the row says so, the others stand.
				if best[i] == 0 {
					vs[i].why = "failed: " + err.Error()
				}
				continue
			}
			if best[i] == 0 || d < best[i] {
				best[i] = d
			}
			if w > 0 && (wall[i] == 0 || w < wall[i]) {
				wall[i] = w
			}
		}
	}
	name := "large-" + exactSize(size)
	const raw, c, plain = 0, 1, 2
	var rows []benchRow
	for i, v := range vs {
		switch {
		case v.why != "":
			rows = append(rows, benchRow{Name: name + " " + v.name, Note: v.why})
		case i == raw:
			continue
		case i == c || i == plain:
			rows = append(rows, measured(name+" "+v.name, float64(best[i]), vs[raw].name, float64(best[raw])))
		default:
			rows = append(rows, measured(name+" "+v.name, float64(best[i]), "plain", float64(best[plain])))
		}
	}
	if vs[c].why == "" {
		rows = append(rows, measured(name+" plain", float64(best[plain]), vs[c].name, float64(best[c])))
	}
	for i := range rows {
		if rows[i].Note != "" {
			continue
		}
		rows[i].Note = fmt.Sprintf("CPU ns of the process (user+system, all threads) per create+map+touch+close, fastest of %d", rounds)
		for j, v := range vs {
			if rows[i].Name != name+" "+v.name || wall[j] == 0 {
				continue
			}
			rows[i].Note += fmt.Sprintf("; elapsed %.0f ms, fastest of %d", float64(wall[j])/1e6, rounds)
			if j > plain && wall[plain] > 0 {
				rows[i].Note += fmt.Sprintf(", %.2fx plain", float64(wall[j])/float64(wall[plain]))
			}
		}
	}
	return rows, nil
}

// largeHeadroom is the memory a large row leaves to the rest of the host
// (shared with other work) beyond its own size.
const largeHeadroom = 4 << 30

// memoryShort says why a variant of size bytes must not run now: too
// little memory available (MemAvailable) to map it and leave
// largeHeadroom. hugetlb pages are set aside already, so the hugetlb
// variant needs only the headroom.
func memoryShort(size int64, hugetlb bool) string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "cannot tell the memory available: " + err.Error()
	}
	avail, ok := hostdoc.ParseMeminfo(b, "MemAvailable")
	if !ok {
		return "no MemAvailable in /proc/meminfo"
	}
	need := uint64(size) + largeHeadroom
	if hugetlb {
		need = largeHeadroom
	}
	if avail < need {
		return fmt.Sprintf("skipped to spare the host: %s available, %s needed with headroom", hostdoc.FormatBytes(avail), hostdoc.FormatBytes(need))
	}
	return ""
}
