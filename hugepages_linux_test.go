package shm_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/doctor"
	"golang.org/x/sys/unix"
)

func init() {
	registerHelper("hugetlb-child", hugetlbChild)
	registerHelper("populate-child", populateChild)
}

// residentKB returns the kB of b mapped in this process (smaps' Rss),
// which Populate must bring to all of b. Page-cache residency (mincore)
// would not do: an object can be allocated without being mapped.
func residentKB(t *testing.T, b []byte) (in, total int) {
	t.Helper()
	return smapsField(t, b, "Rss"), len(b) >> 10
}

// TestMapPopulate checks that Populate puts every page of a new object in
// memory before Map returns, read-write and read-only, and that without
// it none is. It is in the anonymous suite (every strategy) and runs
// again with the MAP_POPULATE route forced (TestForcedPopulate).
func TestMapPopulate(t *testing.T) {
	skipUnlessPopulateVisible(t)
	const size = 4 << 20
	for _, c := range []struct {
		name string
		mp   func(o *shm.Object) (*shm.Mapping, error)
		want bool
	}{
		{"plain", func(o *shm.Object) (*shm.Mapping, error) { return o.Map() }, false},
		{"Populate", func(o *shm.Object) (*shm.Mapping, error) { return o.Map(shm.Populate()) }, true},
		{"ReadOnly+Populate", func(o *shm.Object) (*shm.Mapping, error) { return o.MapReadOnly(shm.Populate()) }, true},
		{"Range+Populate", func(o *shm.Object) (*shm.Mapping, error) {
			return o.MapRange(4096+10, size-8192, shm.ReadWrite, shm.Populate(), shm.HugePages())
		}, true},
		{"nil option", func(o *shm.Object) (*shm.Mapping, error) { return o.Map(nil) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := shm.CreateAnon(size)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			m, err := c.mp(o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			in, total := residentKB(t, m.Bytes()[:m.Len()&^4095])
			switch {
			case c.want && in < total:
				t.Errorf("%d of %d kB mapped after Map with Populate", in, total)
			case !c.want && in != 0:
				t.Errorf("%d of %d kB mapped after a plain Map of a new object", in, total)
			}
			if m.Access() == shm.ReadWrite {
				m.Bytes()[m.Len()-1] = 7 // still an ordinary mapping
			}
		})
	}
}

// TestForcedPopulate runs the Populate tests again in a child with the
// MAP_POPULATE route forced, as kernels before 5.14 get it, and in
// another with the parallel path forced for every mapping, the small ones
// of TestMapPopulate included.
func TestForcedPopulate(t *testing.T) {
	skipUnlessPopulateVisible(t)
	if os.Getenv(shm.TestPopulateEnv) != "" {
		t.Skip("already forced")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []string{"TestMapPopulate", "TestPopulateKeepsContent", "TestPopulateConcurrentWriters", "TestPopulateReadOnly", "TestPopulateResident", "TestPopulateInChild"}
	for _, route := range []string{"mmap", "parallel"} {
		t.Run(route, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^("+strings.Join(tests, "|")+")$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), shm.TestPopulateEnv+"="+route, "GOMAXPROCS="+strconv.Itoa(max(2, runtime.GOMAXPROCS(0))))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s=%s: %v\n%s", shm.TestPopulateEnv, route, err, out)
			}
			for _, name := range tests {
				if !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
					t.Errorf("%s did not pass with %s=%s", name, shm.TestPopulateEnv, route)
				}
			}
			if t.Failed() {
				t.Logf("%s", out)
			}
		})
	}
}

// populateChild maps the inherited object "p" with Populate under the
// route its environment forces (shm.TestPopulateEnv) and prints the
// resident page count.
func populateChild([]string) int {
	o, err := shm.Inherited("p")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer o.Close()
	m, err := o.MapReadOnly(shm.Populate())
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer m.Close()
	n, err := smapsRss(m.Bytes())
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("resident %d of %d kB\n", n, m.Len()>>10)
	return 0
}

// TestPopulateInChild checks Populate on an object another process made
// and filled, through both routes.
func TestPopulateInChild(t *testing.T) {
	skipUnlessPopulateVisible(t)
	o, err := shm.CreateAnon(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, env := range []string{"", "mmap"} {
		cmd := helperCommand(t, "populate-child")
		cmd.Env = append(cmd.Env, shm.TestPopulateEnv+"="+env)
		if err := shm.Pass(cmd, "p", o); err != nil {
			t.Fatal(err)
		}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "resident 1024 of 1024 kB") {
			t.Errorf("child with %s=%q: %v\n%s", shm.TestPopulateEnv, env, err, out)
		}
	}
}

// hostLock serialises the tests (of every test process on the host) that
// change the host's huge-page settings, and records the values to
// restore, so that a run killed midway is repaired by the next one.
type hostLock struct {
	f *os.File
}

const hostLockPath = "/tmp/shm-test-hugepages.lock"

// lockHost takes the host lock or skips the test. It restores what a
// killed run left changed.
func lockHost(t *testing.T) *hostLock {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("not root (euid %d): cannot change the host's huge-page settings", os.Geteuid())
	}
	f, err := os.OpenFile(hostLockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Skipf("cannot open the huge-page lock %s: %v", hostLockPath, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Skipf("cannot lock %s: %v", hostLockPath, err)
	}
	h := &hostLock{f: f}
	h.restore(t) // a killed run's changes
	t.Cleanup(func() {
		h.restore(t)
		f.Close()
	})
	return h
}

// set writes value to the host file p, first recording its old value in
// the lock file (once per file) so that restore puts it back.
func (h *hostLock) set(t *testing.T, p, value string) error {
	t.Helper()
	old, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	cur := string(old)
	if strings.Contains(cur, "[") { // shmem_enabled: the mode in brackets
		mode, _, ok := doctor.ParseShmemEnabled(old)
		if !ok {
			return fmt.Errorf("%s: cannot parse %q", p, old)
		}
		cur = mode
	}
	log, _ := os.ReadFile(hostLockPath)
	if !bytes.Contains(log, []byte(p+"\t")) {
		if _, err := fmt.Fprintf(h.f, "%s\t%s\n", p, strings.TrimSpace(cur)); err != nil {
			return err
		}
		if err := h.f.Sync(); err != nil {
			return err
		}
	}
	return os.WriteFile(p, []byte(value), 0)
}

// restore writes back every value the lock file records and empties it.
func (h *hostLock) restore(t *testing.T) {
	b, err := os.ReadFile(hostLockPath)
	if err != nil {
		t.Errorf("reading %s: %v", hostLockPath, err)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	ok := true
	for sc.Scan() {
		p, v, found := strings.Cut(sc.Text(), "\t")
		if !found || !strings.HasPrefix(p, "/proc/sys/vm/") && !strings.HasPrefix(p, "/sys/kernel/mm/") {
			continue
		}
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			t.Errorf("restoring %s to %q: %v", p, v, err)
			ok = false
		} else {
			t.Logf("restored %s to %s", p, v)
		}
	}
	if ok {
		h.f.Truncate(0)
		h.f.Seek(0, 0)
	}
}

const pool2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/"

// pool returns the 2 MiB hugetlb pool, or skips.
func pool(t *testing.T) doctor.HugePool {
	t.Helper()
	pools, err := doctor.ReadHugePools("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if p.PageSize == 2<<20 {
			return p
		}
	}
	t.Skipf("no 2 MiB hugetlb pool on this host (pools: %v)", pools)
	return doctor.HugePool{}
}

// reserveHugePages makes n more 2 MiB hugetlb pages free, or skips.
func reserveHugePages(t *testing.T, h *hostLock, n uint64) {
	t.Helper()
	p := pool(t)
	if p.Available() >= n {
		return
	}
	want := p.Total + n - p.Available()
	if err := h.set(t, pool2M+"nr_hugepages", strconv.FormatUint(want, 10)); err != nil {
		t.Skipf("cannot reserve hugetlb pages: %v", err)
	}
	if p = pool(t); p.Available() < n {
		t.Skipf("asked the kernel for %d hugetlb pages, it has %d free (memory too fragmented?)", want, p.Available())
	}
}

// TestHugetlb makes a hugetlb object with pages reserved for the test,
// maps it whole, in part at an unaligned offset and with every option,
// and hands it to a child that maps it too.
func TestHugetlb(t *testing.T) {
	if e := os.Getenv("SHM_TEST_EMULATOR"); e != "" {
		t.Skipf("under %s: qemu-user maps guest memory in its own page units and refuses a hugetlb mapping (mmap EINVAL)", e)
	}
	h := lockHost(t)
	reserveHugePages(t, h, 4)
	const size = 4 << 20
	before := pool(t).Available()
	o, err := shm.CreateAnon(size, shm.HugePageSize(2<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Strategy() != "memfd-hugetlb" {
		t.Errorf("strategy %q", o.Strategy())
	}
	if got := before - pool(t).Available(); got != 2 {
		t.Errorf("CreateAnon of 4 MiB took %d huge pages from the pool, want 2 (allocated up front)", got)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(shm.RawFD(o), &st); err != nil || uint32(st.Type) != unix.HUGETLBFS_MAGIC {
		t.Errorf("object is not on hugetlbfs: %v, type %#x", err, st.Type)
	}
	m, err := o.Map(shm.Populate(), shm.HugePages())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	copy(m.Bytes()[3<<20:], "parent")
	r, err := o.MapRange(3<<20, 4096, shm.ReadOnly)
	if err != nil {
		t.Fatalf("MapRange at an unaligned offset of a hugetlb object: %v", err)
	}
	if string(r.Bytes()[:6]) != "parent" || r.Len() != 4096 || r.Offset() != 3<<20 {
		t.Errorf("ranged mapping sees %q, len %d", r.Bytes()[:6], r.Len())
	}
	if err := r.Close(); err != nil {
		t.Errorf("closing a ranged mapping of a hugetlb object: %v", err)
	}
	// An aligned offset and a length short of a page: munmap wants whole
	// huge pages too.
	r, err = o.MapRange(2<<20, 100, shm.ReadWrite, shm.Populate())
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 100 {
		t.Errorf("Len %d, want 100", r.Len())
	}
	if err := r.Close(); err != nil {
		t.Errorf("closing a 100-byte mapping of a hugetlb object: %v", err)
	}

	cmd := helperCommand(t, "hugetlb-child")
	if err := shm.Pass(cmd, "huge", o); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := string(m.Bytes()[size-5:]); got != "child" {
		t.Errorf("parent reads %q where the child wrote", got)
	}
	if got := pool(t).Available(); got != before-2 {
		t.Errorf("the child's mapping changed the free pages: %d, want %d", got, before-2)
	}
}

// hugetlbChild maps the inherited hugetlb object, checks the parent's
// bytes and answers at the end.
func hugetlbChild([]string) int {
	o, err := shm.Inherited("huge")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer o.Close()
	m, err := o.Map(shm.Populate())
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer m.Close()
	if got := string(m.Bytes()[3<<20 : 3<<20+6]); got != "parent" {
		fmt.Printf("child reads %q\n", got)
		return 1
	}
	r, err := o.MapRange(2<<20+100, 100, shm.ReadWrite)
	if err != nil {
		fmt.Println("unaligned MapRange:", err)
		return 1
	}
	if err := r.Close(); err != nil {
		fmt.Println("Close of an unaligned MapRange:", err)
		return 1
	}
	copy(m.Bytes()[m.Len()-5:], "child")
	return 0
}

// TestHugetlbErrors checks the errors of CreateAnon with HugePageSize:
// the ones decided before any system call, a size this host has no pages
// of, and a pool with too few free pages.
func TestHugetlbErrors(t *testing.T) {
	fds := countFDs()
	for _, c := range []struct {
		size, page int64
		want       string
	}{
		{3 << 20, 2 << 20, "not a multiple of the huge page size 2097152: round it up to 4194304"},
		{1 << 20, 3000, "not a power of two"},
		{4 << 20, -2, "not a power of two"},
	} {
		_, err := shm.CreateAnon(c.size, shm.HugePageSize(c.page))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "CreateAnon") {
			t.Errorf("CreateAnon(%d, HugePageSize(%d)) = %v, want %q", c.size, c.page, err, c.want)
		}
	}
	if _, err := shm.CreateAnon(1<<40, shm.HugePageSize(1<<40)); !errors.Is(err, shm.ErrNoHugePages) || !strings.Contains(err.Error(), "no 1.0 TiB huge pages") {
		t.Errorf("a page size the host lacks: %v", err)
	}
	if got := countFDs(); got > fds {
		t.Errorf("%d descriptors open after the errors, %d before", got, fds)
	}

	// More pages than the pool has free: the error says what to change.
	// With the host lock held, no test of ours adds pages meanwhile.
	if os.Geteuid() == 0 {
		lockHost(t)
	}
	fds = countFDs()
	p := pool(t)
	need := int64(p.Available()+1) * (2 << 20)
	_, err := shm.CreateAnon(need, shm.HugePageSize(2<<20))
	if !errors.Is(err, shm.ErrNoHugePages) || !errors.Is(err, unix.ENOSPC) && !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("CreateAnon of %d free pages + 1: %v, want ErrNoHugePages", p.Available(), err)
	}
	for _, s := range []string{fmt.Sprintf("%d huge pages of 2.0 MiB needed, %d free", p.Available()+1, p.Available()), "vm.nr_hugepages=", "shmem_enabled", "fallocate"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	t.Log(err)
	if got := countFDs(); got > fds {
		t.Errorf("%d descriptors open after a failed allocation, %d before", got, fds)
	}
}

// smapsField returns the sum of field (e.g. "ShmemPmdMapped") in kB over
// the smaps entries of b's address range, or skips.
func smapsField(t *testing.T, b []byte, field string) int {
	t.Helper()
	n, err := smapsSum(b, field)
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	return n
}

func smapsRss(b []byte) (int, error) { return smapsSum(b, "Rss") }

func smapsSum(b []byte, field string) (int, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	lo := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	hi := lo + uint64(len(b))
	in, sum := false, 0
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if r := strings.SplitN(f[0], "-", 2); len(r) == 2 && !strings.HasSuffix(f[0], ":") {
			s, err1 := strconv.ParseUint(r[0], 16, 64)
			e, err2 := strconv.ParseUint(r[1], 16, 64)
			if err1 == nil && err2 == nil {
				in = s < hi && e > lo
				continue
			}
		}
		if in && f[0] == field+":" && len(f) >= 2 {
			n, _ := strconv.Atoi(f[1])
			sum += n
		}
	}
	return sum, nil
}

// TestTransparentHugePages maps an object with HugePages and Populate
// with shmem_enabled switched to "advise" and then to "never", and reads
// from smaps whether the kernel gave huge pages.
func TestTransparentHugePages(t *testing.T) {
	skipUnlessPopulateVisible(t)
	h := lockHost(t)
	p := filepath.Join("/", doctor.ShmemEnabledPath)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no transparent huge pages for shared memory here: %v", err)
	}
	const size = 8 << 20
	for _, c := range []struct {
		mode string
		opts []shm.MapOption
		huge bool
	}{
		{"advise", []shm.MapOption{shm.HugePages(), shm.Populate()}, true},
		{"advise", []shm.MapOption{shm.Populate()}, false},
		{"never", []shm.MapOption{shm.HugePages(), shm.Populate()}, false},
	} {
		if err := h.set(t, p, c.mode); err != nil {
			t.Skipf("cannot switch %s to %s: %v", p, c.mode, err)
		}
		o, err := shm.CreateAnon(size)
		if err != nil {
			t.Fatal(err)
		}
		m, err := o.Map(c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		pmd := smapsField(t, m.Bytes(), "ShmemPmdMapped")
		t.Logf("shmem_enabled=%s, %d options: ShmemPmdMapped %d kB", c.mode, len(c.opts), pmd)
		switch {
		case c.huge && pmd == 0:
			// The kernel may find no free 2 MiB block; that is not ours.
			if doctorFree(t) {
				t.Errorf("shmem_enabled=advise with HugePages: no huge page mapped")
			}
		case !c.huge && pmd != 0:
			t.Errorf("shmem_enabled=%s, options %d: %d kB mapped huge, want none", c.mode, len(c.opts), pmd)
		}
		m.Bytes()[size-1] = 1
		m.Close()
		o.Close()
	}
}

// doctorFree reports whether the host has plenty of free memory, so that
// a missing huge page is the library's fault rather than fragmentation.
func doctorFree(t *testing.T) bool {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemFree:" {
			kb, _ := strconv.Atoi(f[1])
			if kb < 1<<20 {
				t.Logf("only %d kB free: huge pages may be missing for that reason", kb)
			}
			return kb >= 1<<20
		}
	}
	return false
}

// skipUnlessPopulateVisible skips a test whose check reads back, through
// /proc/self/smaps, pages that MAP_POPULATE or madvise put in place, when
// this process cannot see that happen: qemu-user (the suites of other
// architectures in .ci/run) answers madvise with success without passing
// MADV_POPULATE_*/MADV_HUGEPAGE to the kernel, and its smaps does not show
// pages it populated. The probe asks the kernel directly, so a native run
// never skips.
func skipUnlessPopulateVisible(t *testing.T) {
	t.Helper()
	ok, why, err := populateVisible()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if !ok {
		t.Skip(why)
	}
}

// populateVisible is skipUnlessPopulateVisible's probe: false, and why,
// when this process cannot see prefaulted pages.
func populateVisible() (bool, string, error) {
	const size = 64 << 10
	fd, err := unix.MemfdCreate("shm-populate-probe", unix.MFD_CLOEXEC)
	if err != nil {
		return false, "", fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, size); err != nil {
		return false, "", fmt.Errorf("ftruncate: %w", err)
	}
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return false, "", fmt.Errorf("mmap: %w", err)
	}
	defer unix.Munmap(b)
	in, err := smapsRss(b)
	if err != nil {
		return false, fmt.Sprintf("no /proc/self/smaps: %v", err), nil
	}
	if in < size>>10 {
		return false, fmt.Sprintf("this process cannot see prefaulted pages (a MAP_POPULATE mapping of %d kB shows %d kB in /proc/self/smaps): qemu-user passes neither MAP_POPULATE nor MADV_POPULATE_*/MADV_HUGEPAGE to the kernel (SHM_TEST_EMULATOR=%q)",
			size>>10, in, os.Getenv("SHM_TEST_EMULATOR")), nil
	}
	return true, "", nil
}
