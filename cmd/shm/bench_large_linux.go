package main

import (
	"fmt"
	"os"
	"runtime"
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
// page written once; run returns the CPU time it took (user and system,
// of the thread that did it, or of the C process), and the time elapsed
// (0 when unknown).
type largeVariant struct {
	name string
	why  string // set when it cannot run on this host
	run  func(size int64) (cpu, wall time.Duration, err error)
}

// threadCPU returns the CPU time of the calling thread (user and system).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// timed runs fn on one locked thread and returns its CPU time and the
// time elapsed.
func timed(fn func() error) (cpu, wall time.Duration, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, c0 := time.Now(), threadCPU()
	err = fn()
	return threadCPU() - c0, time.Since(start), err
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
// starts), rounds times in turn; the figure is the fastest round.
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
				best[i], wall[i] = d, w
			}
		}
	}
	name := "large-" + exactSize(size)
	raw, plain := float64(best[0]), float64(best[2])
	var rows []benchRow
	for i, v := range vs {
		switch {
		case v.why != "":
			rows = append(rows, benchRow{Name: name + " " + v.name, Note: v.why})
		case i == 0:
			continue
		case i == 1 || i == 2:
			rows = append(rows, measured(name+" "+v.name, float64(best[i]), vs[0].name, raw))
		default:
			rows = append(rows, measured(name+" "+v.name, float64(best[i]), "plain", plain))
		}
	}
	if vs[1].why == "" {
		rows = append(rows, measured(name+" plain", plain, vs[1].name, float64(best[1])))
	}
	for i := range rows {
		if rows[i].Note == "" {
			rows[i].Note = fmt.Sprintf("CPU ns (user+system) per create+map+touch+close, fastest of %d", rounds)
			for j, v := range vs {
				if rows[i].Name == name+" "+v.name && wall[j] > 0 {
					rows[i].Note += fmt.Sprintf("; %.0f ms elapsed", float64(wall[j])/1e6)
				}
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
