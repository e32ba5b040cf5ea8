package shm

import (
	"errors"
	"fmt"
	"math/bits"
)

// A MapOption changes how [Object.Map], [Object.MapReadOnly] and
// [Object.MapRange] map an object. The options are [Populate] and
// [HugePages]; more may follow.
type MapOption interface {
	applyMap(*mapConfig)
}

// mapConfig is what the MapOptions of one call asked for.
type mapConfig struct {
	populate bool
	huge     bool
}

func mapOptions(opts []MapOption) mapConfig {
	var c mapConfig
	for _, o := range opts {
		if o != nil {
			o.applyMap(&c)
		}
	}
	return c
}

type populateOption struct{}

func (populateOption) applyMap(c *mapConfig) { c.populate = true }

// Populate makes the mapping fault in every page before Map returns, so
// that the first accesses do not each take a page fault (262 144 of them
// for 1 GiB of 4 KiB pages). Map then takes the time the faults would
// have taken, in the kernel and in one go where the OS allows it.
//
// Map asks the kernel to prefault where it can (per OS below), then
// touches each 4 KiB of the mapping once: an atomic add of 0 to one word
// in a read-write mapping, which leaves the content as it was even while
// other processes write it, and an atomic load in a read-only one. The
// touch matters on virtual machines whose hypervisor backs guest memory
// lazily: a page the guest kernel has mapped still takes a fault on the
// host the first time it is written (about 5 µs on the machine of
// BENCHMARKS.md), which the touch takes inside Map instead of leaving it
// to the first use; elsewhere it costs a cache miss per page. A mapping
// of 128 MiB or more is prefaulted and touched in chunks of at least 64
// MiB on up to GOMAXPROCS goroutines at once, which makes it usable
// sooner for about as much CPU time, or more; a smaller one on the
// calling goroutine. A memory fault while touching (the object shrank)
// fails Map with an error wrapping [ErrFault]; whatever fails, every
// goroutine is done and nothing is left mapped when Map returns.
//
// Per OS, the prefault before the touch:
//   - linux 5.14 and later: madvise(MADV_POPULATE_WRITE) on a read-write
//     mapping, MADV_POPULATE_READ on a read-only one, after [HugePages]'
//     advice, per chunk. A page that cannot be allocated (the filesystem
//     behind a named object is full, no free huge page for a hugetlb
//     object) fails Map with an error instead of raising SIGBUS later.
//   - linux before 5.14 (the madvise fails with EINVAL, remembered for the
//     process): mmap(MAP_POPULATE), best effort: nothing is reported, and
//     with [HugePages] the pages are faulted in before the advice is given,
//     so they start small.
//   - freebsd: mmap(MAP_PREFAULT_READ), which maps the pages already in
//     memory and allocates none; the touch faults in the rest.
//   - openbsd, netbsd, dragonfly, darwin, illumos, solaris, windows: none;
//     these systems have no call for it, and the touch is all of Populate.
func Populate() MapOption { return populateOption{} }

type hugePagesOption struct{}

func (hugePagesOption) applyMap(c *mapConfig) { c.huge = true }

// HugePages asks for the mapping to be backed by transparent huge pages
// (2 MiB on x86-64) where the host allows it: one page fault then maps 512
// times as much memory, and TLB misses become rare. It is advice: the
// mapping works the same whether or not it is followed, and Map does not
// fail because of it. `shm doctor` says whether this host follows it.
//
// Per OS:
//   - linux: madvise(MADV_HUGEPAGE). The kernel follows it for shared
//     memory when /sys/kernel/mm/transparent_hugepage/shmem_enabled is
//     "advise", "within_size" or "always" (the default is "never"), and
//     for a named object on a tmpfs mounted with huge=advise or
//     huge=within_size. A kernel built without transparent huge pages
//     ignores it. Objects made with [HugePageSize] are huge already.
//   - freebsd: nothing to do: superpages are automatic
//     (vm.pmap.pg_ps_enabled=1, the default on amd64 and arm64); for
//     guaranteed large pages make the object with [HugePageSize].
//   - openbsd, netbsd, dragonfly, darwin, illumos, solaris: nothing; none
//     of them offers huge pages for shared file mappings to a program.
//   - windows: nothing; large pages there are a property of the section,
//     chosen when it is created (SEC_LARGE_PAGES, which needs the "lock
//     pages in memory" privilege), not advice on a view, and
//     [HugePageSize] does not offer them on windows.
func HugePages() MapOption { return hugePagesOption{} }

// An AnonOption changes how [CreateAnon] makes an object. The option is
// [HugePageSize]; more may follow.
type AnonOption interface {
	applyAnon(*anonConfig)
}

// anonConfig is what the AnonOptions of one call asked for.
type anonConfig struct {
	hugePage    int64 // page size asked for; 0 with huge set: the default
	huge        bool
	hugeInvalid error // HugePageSize got a size that cannot be a page size
}

func anonOptions(opts []AnonOption) anonConfig {
	var c anonConfig
	for _, o := range opts {
		if o != nil {
			o.applyAnon(&c)
		}
	}
	return c
}

type hugePageSizeOption int64

func (h hugePageSizeOption) applyAnon(c *anonConfig) {
	c.huge, c.hugePage, c.hugeInvalid = true, int64(h), nil
	if h < 0 || (h != 0 && bits.OnesCount64(uint64(h)) != 1) {
		c.hugeInvalid = fmt.Errorf("huge page size %d is not a power of two", int64(h))
	}
}

// HugePageSize makes [CreateAnon] back the object with huge pages of size
// bytes (2<<20 and 1<<30 on x86-64), reserved by the administrator, or
// with the host's default huge page size when size is 0. The object's
// size must be a multiple of the page size: CreateAnon says so before
// making anything. All its memory is allocated by CreateAnon, so a host
// without enough free huge pages fails there, with an error that says
// what to change, and never later with SIGBUS.
//
// Mappings of such an object cover whole huge pages: [Object.MapRange]
// widens the range to them (the view is still the range asked for).
//
// Per OS:
//   - linux: memfd_create(MFD_HUGETLB with the page size), then
//     fallocate of the whole size (strategy "memfd-hugetlb"). The pages
//     come from the hugetlb pool: vm.nr_hugepages (for the default size)
//     or /sys/kernel/mm/hugepages/hugepages-<N>kB/nr_hugepages.
//   - freebsd 13 and later: shm_open2(SHM_ANON, SHM_LARGEPAGE) configured
//     with the page size's index in hw.pagesizes, which is what libc's
//     shm_create_largepage does (strategy "shm_open2-largepage"); the
//     pages are allocated when the size is set.
//   - elsewhere: an error wrapping [errors.ErrUnsupported] that names the
//     OS.
func HugePageSize(size int64) AnonOption { return hugePageSizeOption(size) }

// ErrNoHugePages is wrapped by the error of [CreateAnon] with
// [HugePageSize] when the host has no free huge pages of the size asked
// for (or none of that size at all); the error's text says what to change.
var ErrNoHugePages = errors.New("shm: not enough free huge pages")

// checkHugeSize checks that size is a whole number of huge pages of
// page bytes.
func checkHugeSize(size, page int64) error {
	if page <= 0 || size%page == 0 {
		return nil
	}
	return fmt.Errorf("size %d is not a multiple of the huge page size %d: round it up to %d", size, page, (size/page+1)*page)
}
