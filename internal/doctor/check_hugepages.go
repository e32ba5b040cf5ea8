package doctor

import (
	"fmt"
	"strings"
)

// IDHugePages is the ID of the huge-page check.
const IDHugePages = "hugepages.state"

// largeObject is the size from which the huge-page check treats the
// caller's objects as large: below it, 4 KiB pages cost little.
const largeObject = 64 << 20

// checkHugePages reports what large objects can get on this host: the
// hugetlb pools (for CreateAnon with HugePageSize), the transparent huge
// page mode for shared memory (for Map with HugePages), and, when the
// caller said how much it means to use (Env.WantSize), whether a pool or
// /dev/shm holds that much.
func checkHugePages(r *runner) Finding {
	if r.env.GOOS != "linux" && r.env.GOOS != "android" {
		return r.skipOS("hugetlb pools and transparent huge pages for shared memory", "Linux")
	}
	want := r.env.WantSize
	const meaningBase = "A large object faults in one 4 KiB page at a time unless huge pages back it: 1 GiB is 262 144 faults, " +
		"seconds of a process's time; with 2 MiB pages it is 512. shm.CreateAnon(size, shm.HugePageSize(n)) takes pages from a hugetlb pool, " +
		"Map(shm.HugePages()) asks for transparent huge pages, which the kernel gives shared memory only when shmem_enabled allows it. "

	var parts, problems, remedies []string
	pools, perr := ReadHugePools(r.env.Root)
	def, derr := ReadDefaultHugePageSize(r.env.Root)
	if derr != nil {
		def = 0
	}
	usablePool := false
	var poolFits *HugePool
	switch {
	case perr != nil:
		parts = append(parts, "hugetlb pools unreadable ("+perr.Error()+")")
	case len(pools) == 0:
		parts = append(parts, "no hugetlb pools (kernel without CONFIG_HUGETLBFS)")
	default:
		var ps []string
		for i, p := range pools {
			s := fmt.Sprintf("%s pages: %d reserved, %d free", FormatBytes(p.PageSize), p.Total, p.Available())
			if p.PageSize == def {
				s += " (default size)"
			}
			ps = append(ps, s)
			if p.Available() > 0 {
				usablePool = true
			}
			if want > 0 && poolFits == nil && p.Available() >= pagesFor(want, p.PageSize) {
				poolFits = &pools[i]
			}
		}
		parts = append(parts, "hugetlb "+strings.Join(ps, "; "))
	}
	mode, merr := ReadShmemEnabled(r.env.Root)
	thp := false
	switch {
	case merr != nil:
		parts = append(parts, "shmem_enabled unreadable (no transparent huge pages?)")
	default:
		parts = append(parts, "shmem_enabled="+mode)
		thp = ShmemFollowsAdvice(mode)
	}
	thpRemedy := "For transparent huge pages: `echo advise > " + ShmemEnabledPath + "` (as root; persist it with a tmpfiles.d `w` line or, on Linux 6.12 and later, transparent_hugepage_shmem=advise on the kernel command line)."
	poolPage := def
	if poolPage == 0 && len(pools) > 0 {
		poolPage = pools[0].PageSize
	}
	status := OK
	if want > 0 {
		parts = append(parts, "asked for "+formatBytes(want))
	}
	if want >= largeObject && !thp && poolFits == nil {
		status = Warn
		what := "no hugetlb pool has " + formatBytes(want) + " free"
		if !usablePool {
			what = "no hugetlb pages are free"
		}
		problems = append(problems, fmt.Sprintf("neither route to huge pages is open for %s: %s, and shmem_enabled=%s ignores MADV_HUGEPAGE", formatBytes(want), what, orUnknown(mode)))
		if poolPage > 0 {
			var have uint64
			for _, p := range pools {
				if p.PageSize == poolPage {
					have = p.Total - min(p.Total, p.Available())
				}
			}
			remedies = append(remedies, "For hugetlb pages: "+HugePoolRemedy(poolPage, def, have+pagesFor(want, poolPage))+".")
		}
		if merr == nil {
			remedies = append(remedies, thpRemedy)
		}
	}
	// /dev/shm holds named objects; anonymous ones (memfd) are not
	// counted against it.
	if want > 0 && r.env.Statfs != nil {
		if st, err := r.env.Statfs(r.resolveLink("/dev/shm")); err == nil && st.Size > 0 {
			parts = append(parts, fmt.Sprintf("/dev/shm %s (%s free)", formatBytes(st.Size), formatBytes(st.Free)))
			if st.Free < want {
				status = Warn
				problems = append(problems, fmt.Sprintf("/dev/shm has %s free, less than the %s asked for: a named object that large fails with ENOSPC (anonymous objects are not counted there)", formatBytes(st.Free), formatBytes(want)))
				remedies = append(remedies, devShmRemedy)
			}
		}
	}
	f := Finding{
		Status:  status,
		Summary: strings.Join(parts, ", "),
		Meaning: meaningBase,
	}
	switch {
	case len(problems) > 0:
		f.Meaning += capitalize(strings.Join(problems, "; ")) + "."
	case thp && usablePool:
		f.Meaning += "Both routes are open here."
	case thp:
		f.Meaning += "Transparent huge pages are open to shared memory here; no hugetlb pages are free (" + reserveHint(poolPage, def) + ")."
	case usablePool:
		f.Meaning += "Hugetlb pages are free here; transparent huge pages are not given to shared memory (" + thpRemedy + ")"
	default:
		f.Meaning += "Neither is open here: large objects get 4 KiB pages. " + reserveHint(poolPage, def) + ". " + thpRemedy + " `shm doctor --size SIZE` checks for a given size."
	}
	if status != OK {
		f.Remedy = strings.Join(dedup(remedies), " ")
		if f.Remedy == "" {
			f.Remedy = "See the summary."
		}
	}
	return f
}

// reserveHint says how to reserve hugetlb pages of the default size.
func reserveHint(page, def uint64) string {
	if page == 0 {
		return "this kernel has no hugetlb pages"
	}
	return fmt.Sprintf("hugetlb pages are reserved per size, e.g. 1 GiB of %s pages with %s", FormatBytes(page), HugePoolRemedy(page, def, (1<<30)/page))
}

// pagesFor returns how many pages of size page hold n bytes.
func pagesFor(n, page uint64) uint64 {
	if page == 0 {
		return 0
	}
	return n/page + min(n%page, 1)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
