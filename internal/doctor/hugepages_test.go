package doctor

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestParseHugePoolName(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"hugepages-2048kB", 2 << 20, true},
		{"hugepages-1048576kB", 1 << 30, true},
		{"hugepages-64kB", 64 << 10, true},
		{"hugepages-0kB", 0, false},
		{"hugepages-2048", 0, false},
		{"hugepages--2048kB", 0, false},
		{"hugepages-+2048kB", 0, false},
		{"hugepages-kB", 0, false},
		{"hugepages-99999999999999999999kB", 0, false},
		{"hugepages-9007199254740993kB", 0, false},
		{"hugepage-2048kB", 0, false},
		{"", 0, false},
	} {
		got, ok := ParseHugePoolName(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseHugePoolName(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseShmemEnabled(t *testing.T) {
	for _, c := range []struct {
		file, mode string
		ok         bool
	}{
		{"shmem_enabled-6.18", "never", true},
		{"shmem_enabled-never", "never", true},
		{"shmem_enabled-advise", "advise", true},
		{"shmem_enabled-always", "always", true},
		{"shmem_enabled-bad", "", false},
	} {
		mode, offered, ok := ParseShmemEnabled(readTestdata(t, "hugepages/"+c.file))
		if mode != c.mode || ok != c.ok {
			t.Errorf("%s: mode %q, %v; want %q, %v", c.file, mode, ok, c.mode, c.ok)
		}
		if ok && len(offered) != 6 {
			t.Errorf("%s: offered %q, want the 6 modes", c.file, offered)
		}
	}
	for _, in := range []string{"", "never", "[]", "[never", "[[never]]", "always [advise]x"} {
		if mode, _, ok := ParseShmemEnabled([]byte(in)); ok {
			t.Errorf("ParseShmemEnabled(%q) = %q, accepted", in, mode)
		}
	}
}

func TestParseMeminfoHugepagesize(t *testing.T) {
	if n, ok := ParseMeminfoHugepagesize(readTestdata(t, "hugepages/meminfo-6.18")); !ok || n != 2<<20 {
		t.Errorf("meminfo-6.18: %d, %v", n, ok)
	}
	if n, ok := ParseMeminfo(readTestdata(t, "hugepages/meminfo-6.18"), "MemTotal"); !ok || n != 24683548<<10 {
		t.Errorf("meminfo-6.18 MemTotal: %d, %v", n, ok)
	}
	if n, ok := ParseMeminfoHugepagesize(readTestdata(t, "hugepages/meminfo-nohugetlb")); ok {
		t.Errorf("meminfo without hugetlb: %d", n)
	}
	for _, in := range []string{"Hugepagesize: 2048", "Hugepagesize: 2048 MB", "Hugepagesize: x kB", "Hugepagesize: 0 kB", "Hugepagesize: -1 kB", "Hugepagesize 2048 kB"} {
		if n, ok := ParseMeminfoHugepagesize([]byte(in)); ok {
			t.Errorf("%q: %d accepted", in, n)
		}
	}
}

func TestParseCounter(t *testing.T) {
	for in, want := range map[string]int64{"0\n": 0, "512\n": 512, " 7 ": 7, "": -1, "-1\n": -1, "+1": -1, "1 2": -1, "0x10": -1, "18446744073709551616": -1} {
		n, ok := ParseCounter([]byte(in))
		if (want < 0) == ok || (ok && int64(n) != want) {
			t.Errorf("ParseCounter(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
}

func FuzzParseHugePages(f *testing.F) {
	for _, s := range []string{"hugepages-2048kB", "always within_size advise [never] deny force", "Hugepagesize:       2048 kB\n", "512\n", "[", "hugepages-kB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := ParseHugePoolName(s); ok {
			if n == 0 || n%1024 != 0 || ("hugepages-"+strings.TrimLeft(strings.TrimSuffix(strings.TrimPrefix(s, "hugepages-"), "kB"), "0")+"kB") != "hugepages-"+strconv.FormatUint(n>>10, 10)+"kB" {
				t.Fatalf("ParseHugePoolName(%q) = %d does not format back", s, n)
			}
		}
		if mode, offered, ok := ParseShmemEnabled([]byte(s)); ok {
			found := false
			for _, w := range offered {
				if w == "" || strings.ContainsAny(w, "[] \t\n") {
					t.Fatalf("ParseShmemEnabled(%q) offers %q", s, w)
				}
				found = found || w == mode
			}
			if !found || !strings.Contains(s, "["+mode+"]") {
				t.Fatalf("ParseShmemEnabled(%q) = %q, not a bracketed word of the input", s, mode)
			}
		}
		if n, ok := ParseMeminfoHugepagesize([]byte(s)); ok && (n == 0 || n%1024 != 0) {
			t.Fatalf("ParseMeminfoHugepagesize(%q) = %d", s, n)
		}
		if n, ok := ParseMeminfo([]byte(s), "MemAvailable"); ok && (n%1024 != 0 || !strings.Contains(s, "MemAvailable:")) {
			t.Fatalf("ParseMeminfo(%q, MemAvailable) = %d", s, n)
		}
		if n, ok := ParseCounter([]byte(s)); ok && strconv.FormatUint(n, 10) != strings.TrimLeft(strings.TrimSpace(s), "0") && (n != 0 || strings.Trim(s, "0 \t\n\r\v\f") != "") {
			t.Fatalf("ParseCounter(%q) = %d", s, n)
		}
	})
}

// hugeHost writes a Linux host's huge-page files into the fixture: the
// 6.18 meminfo, shmem_enabled with mode, and one pool per entry of pools
// (page size in kB: total, free, reserved).
func (f *fixture) hugeHost(mode string, pools map[int][3]int) {
	f.copy(MeminfoPath, "hugepages/meminfo-6.18")
	f.copy(ShmemEnabledPath, "hugepages/shmem_enabled-"+mode)
	for kb, v := range pools {
		dir := fmt.Sprintf("%s/hugepages-%dkB/", HugePoolsDir, kb)
		f.write(dir+"nr_hugepages", fmt.Sprintf("%d\n", v[0]))
		f.write(dir+"free_hugepages", fmt.Sprintf("%d\n", v[1]))
		f.write(dir+"resv_hugepages", fmt.Sprintf("%d\n", v[2]))
		f.write(dir+"surplus_hugepages", "0\n")
	}
}

func TestCheckHugePages(t *testing.T) {
	t.Run("default host", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("never", map[int][3]int{2048: {0, 0, 0}, 1048576: {0, 0, 0}})
		g := f.one(IDHugePages, OK, "2.0 MiB pages: 0 reserved, 0 free (default size)", "1.0 GiB pages", "shmem_enabled=never")
		if !strings.Contains(g.Meaning, "Neither is open here") || !strings.Contains(g.Meaning, "vm.nr_hugepages") || !strings.Contains(g.Meaning, "echo advise") {
			t.Errorf("meaning does not say what to change:\n%s", dump(g))
		}
	})
	t.Run("large size, nothing open", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("never", map[int][3]int{2048: {10, 4, 0}})
		f.env.WantSize = 1 << 30
		g := f.one(IDHugePages, Warn, "asked for 1.0 GiB")
		for _, s := range []string{"vm.nr_hugepages=518", "echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled"} {
			if !strings.Contains(g.Remedy, s) {
				t.Errorf("remedy lacks %q:\n%s", s, dump(g))
			}
		}
	})
	t.Run("large size, pool fits", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("never", map[int][3]int{2048: {600, 600, 50}})
		f.env.WantSize = 1 << 30
		f.one(IDHugePages, OK, "600 reserved, 550 free")
	})
	t.Run("large size, reserved pages taken", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("never", map[int][3]int{2048: {600, 600, 600}})
		f.env.WantSize = 1 << 30
		f.one(IDHugePages, Warn, "600 reserved, 0 free")
	})
	t.Run("large size, THP advise", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("advise", map[int][3]int{2048: {0, 0, 0}})
		f.env.WantSize = 1 << 30
		g := f.one(IDHugePages, OK, "shmem_enabled=advise")
		if !strings.Contains(g.Meaning, "Transparent huge pages are open") {
			t.Errorf("meaning:\n%s", dump(g))
		}
	})
	t.Run("small /dev/shm", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("always", map[int][3]int{2048: {0, 0, 0}})
		f.mkdir("/dev/shm", 0o1777)
		f.fs["/dev/shm"] = FS{Type: "tmpfs", Size: 64 << 20, Free: 60 << 20}
		f.env.WantSize = 256 << 20
		g := f.one(IDHugePages, Warn, "/dev/shm 64.0 MiB (60.0 MiB free)")
		if !strings.Contains(g.Remedy, "--shm-size") {
			t.Errorf("remedy:\n%s", dump(g))
		}
	})
	t.Run("no hugetlb", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.copy(MeminfoPath, "hugepages/meminfo-nohugetlb")
		g := f.one(IDHugePages, OK, "no hugetlb pools", "shmem_enabled unreadable")
		if !strings.Contains(g.Meaning, "no hugetlb pages") {
			t.Errorf("meaning:\n%s", dump(g))
		}
	})
	t.Run("corrupt files", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.hugeHost("bad", map[int][3]int{2048: {0, 0, 0}})
		f.write(HugePoolsDir+"/hugepages-2048kB/free_hugepages", "lots\n")
		f.one(IDHugePages, OK, "hugetlb pools unreadable", "shmem_enabled unreadable")
	})
	t.Run("other OS", func(t *testing.T) {
		f := newFixture(t, "freebsd")
		f.one(IDHugePages, Skip, "Linux only")
	})
}
