package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Linux's huge-page files, as host paths.
const (
	HugePoolsDir     = "/sys/kernel/mm/hugepages"
	ShmemEnabledPath = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
	MeminfoPath      = "/proc/meminfo"
)

// A HugePool is one hugetlb page pool of Linux:
// /sys/kernel/mm/hugepages/hugepages-<N>kB.
type HugePool struct {
	PageSize uint64 // bytes
	Total    uint64 // nr_hugepages: pages in the pool
	Free     uint64 // free_hugepages: not in use (reserved ones included)
	Reserved uint64 // resv_hugepages: promised to mappings, not yet faulted
}

// Available is the number of pages a new object can get: free and not
// promised to a mapping already.
func (p HugePool) Available() uint64 {
	if p.Reserved >= p.Free {
		return 0
	}
	return p.Free - p.Reserved
}

// ParseHugePoolName parses the name of a pool directory,
// "hugepages-2048kB", into a page size in bytes.
func ParseHugePoolName(name string) (uint64, bool) {
	v, ok := strings.CutPrefix(name, "hugepages-")
	if !ok {
		return 0, false
	}
	v, ok = strings.CutSuffix(v, "kB")
	if !ok || v == "" || v[0] == '+' || v[0] == '-' {
		return 0, false
	}
	kb, err := strconv.ParseUint(v, 10, 64)
	if err != nil || kb == 0 || kb > (1<<53) {
		return 0, false
	}
	return kb << 10, true
}

// ParseCounter parses a sysfs counter: a decimal number and a newline.
func ParseCounter(b []byte) (uint64, bool) {
	s := strings.TrimSpace(string(b))
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// ParseShmemEnabled parses transparent_hugepage/shmem_enabled, e.g.
// "always within_size advise [never] deny force", and returns the word in
// brackets, the mode in force, and every word offered.
func ParseShmemEnabled(b []byte) (mode string, offered []string, ok bool) {
	fields := strings.Fields(string(b))
	for _, f := range fields {
		w := f
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") && len(f) > 2 {
			w = f[1 : len(f)-1]
			if mode != "" {
				return "", nil, false // two modes in force
			}
			mode = w
		}
		if w == "" || strings.ContainsAny(w, "[]") {
			return "", nil, false
		}
		offered = append(offered, w)
	}
	return mode, offered, mode != ""
}

// ParseMeminfoHugepagesize returns the default huge page size from
// /proc/meminfo's "Hugepagesize:       2048 kB" line.
func ParseMeminfoHugepagesize(b []byte) (uint64, bool) {
	n, ok := ParseMeminfo(b, "Hugepagesize")
	return n, ok && n > 0
}

// ParseMeminfo returns the value in bytes of the /proc/meminfo line key,
// such as "MemAvailable:   10732308 kB".
func ParseMeminfo(b []byte, key string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 256), 64<<10)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || kb > (1<<53) {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// ReadHugePools reads the hugetlb pools under root (a host's "/" or a
// fixture tree), sorted by page size. A kernel without hugetlb has no
// directory: no pools and no error.
func ReadHugePools(root string) ([]HugePool, error) {
	dir := filepath.Join(root, HugePoolsDir)
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pools []HugePool
	for _, e := range ents {
		size, ok := ParseHugePoolName(e.Name())
		if !ok {
			continue
		}
		p := HugePool{PageSize: size}
		for _, c := range []struct {
			file string
			to   *uint64
		}{{"nr_hugepages", &p.Total}, {"free_hugepages", &p.Free}, {"resv_hugepages", &p.Reserved}} {
			b, err := readSmall(filepath.Join(dir, e.Name(), c.file))
			if err != nil {
				return nil, err
			}
			n, ok := ParseCounter(b)
			if !ok {
				return nil, fmt.Errorf("%s/%s/%s: not a number: %q", HugePoolsDir, e.Name(), c.file, b)
			}
			*c.to = n
		}
		pools = append(pools, p)
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].PageSize < pools[j].PageSize })
	return pools, nil
}

// ReadShmemEnabled reads the transparent huge page mode for shared memory
// under root: "never", "advise", "within_size", "always", "deny" or
// "force".
func ReadShmemEnabled(root string) (string, error) {
	b, err := readSmall(filepath.Join(root, ShmemEnabledPath))
	if err != nil {
		return "", err
	}
	mode, _, ok := ParseShmemEnabled(b)
	if !ok {
		return "", fmt.Errorf("%s: cannot parse %q", ShmemEnabledPath, b)
	}
	return mode, nil
}

// ReadDefaultHugePageSize reads the default huge page size under root,
// from /proc/meminfo.
func ReadDefaultHugePageSize(root string) (uint64, error) {
	b, err := readSmall(filepath.Join(root, MeminfoPath))
	if err != nil {
		return 0, err
	}
	n, ok := ParseMeminfoHugepagesize(b)
	if !ok {
		return 0, fmt.Errorf("%s: no Hugepagesize line: this kernel has no hugetlb pages", MeminfoPath)
	}
	return n, nil
}

// readSmall reads at most 64 KiB of a file.
func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 64<<10)
	n, err := f.Read(b)
	if n > 0 {
		return b[:n], nil
	}
	return nil, err
}

// ShmemFollowsAdvice reports whether THP mode lets MADV_HUGEPAGE give a
// shared mapping huge pages.
func ShmemFollowsAdvice(mode string) bool {
	switch mode {
	case "advise", "within_size", "always", "force":
		return true
	}
	return false
}

// HugePoolRemedy says how to reserve n pages of size bytes in the pool
// whose size is def the default one.
func HugePoolRemedy(size, def, n uint64) string {
	dir := fmt.Sprintf("%s/hugepages-%dkB/nr_hugepages", HugePoolsDir, size>>10)
	if size == def {
		return fmt.Sprintf("`sysctl -w vm.nr_hugepages=%d` (or `echo %d > %s`; persist it in /etc/sysctl.d, or boot with hugepages=%d)", n, n, dir, n)
	}
	return fmt.Sprintf("`echo %d > %s` (or boot with hugepagesz=%s hugepages=%d)", n, dir, FormatBytesShort(size), n)
}

// FormatBytes renders a size: "2.0 MiB".
func FormatBytes(n uint64) string { return formatBytes(n) }

// FormatBytesShort renders a power-of-two size for a kernel command line:
// "2M", "1G", or bytes.
func FormatBytesShort(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return strconv.FormatUint(n, 10)
}
