package shm

import (
	"fmt"
	"runtime"

	"github.com/shmkit/shm/internal/shmdebug"
)

// CreateAnon creates an anonymous shared-memory object of size bytes.
//
// The object has no name anywhere once CreateAnon returns, so nothing can
// leak, collide or be deleted behind your back: it lives while a
// descriptor or a mapping of it exists. Its descriptor is close-on-exec;
// hand it to other processes with [Pass] (across exec) or [Send] (over a
// Unix socket). The mode is 0600 wherever a mode exists.
//
// The route differs per OS, and [Object.Strategy] reports which one was
// taken:
//   - linux: memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_NOEXEC_SEAL),
//     retried without MFD_NOEXEC_SEAL on kernels before 6.3 ("memfd");
//     where memfd_create is missing or forbidden (ENOSYS, or EPERM from a
//     seccomp filter), an O_TMPFILE file in /dev/shm ("tmpfile"), then a
//     random name created exclusively in /dev/shm and unlinked at once
//     ("random-linux");
//   - freebsd: shm_open2(SHM_ANON) with sealing allowed ("shm_open2"),
//     or the older shm_open(SHM_ANON) ("shm_open");
//   - openbsd: the shm_mkstemp technique, /tmp/<sha256>.shm created
//     exclusively and unlinked at once ("random-openbsd");
//   - netbsd: memfd_create on NetBSD 11 and later, decided from
//     kern.osrevision ("memfd"); before, as below ("random-netbsd");
//   - netbsd, dragonfly, illumos, solaris: a random name made the way that
//     OS's libc shm_open makes a file, unlinked at once ("random-<os>");
//   - darwin: shm_open of a random 31-byte name through libSystem,
//     unlinked at once ("random-darwin");
//   - windows: CreateFileMapping(INVALID_HANDLE_VALUE) under a random
//     128-bit name in the session's namespace (Local\shm-anon-<32 hex>;
//     nothing opens it by that name: the locks in a mapping key their
//     wait objects by the section's name), a section backed by the paging
//     file whose handle is not inheritable ("section"). Its size is fixed here and may not be 0 (an error
//     wrapping errors.ErrUnsupported says so); [Object.Size] reports it
//     rounded up to a whole page.
//
// Random names come from crypto/rand. The size is set, and its memory
// reserved where the route lives on a size-limited filesystem (the
// tmpfile and random routes; see [Object.Truncate]), before CreateAnon
// returns; it may be 0 (set it later with [Object.Truncate], except on
// darwin, which allows one size per object).
//
// With [HugePageSize] the object is made of huge pages instead, by a route
// of its own (see there).
func CreateAnon(size int64, opts ...AnonOption) (*Object, error) {
	if err := checkSize(size); err != nil {
		return nil, fmt.Errorf("shm: CreateAnon: %w", err)
	}
	var o *Object
	var err error
	if cfg := anonOptions(opts); cfg.huge {
		o, err = createAnonHuge(size, cfg)
	} else if err = anonNotForced(); err == nil {
		o, err = createAnon(size)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: CreateAnon(%d): %w", size, err)
	}
	return o, nil
}

// anonRoute, when not "", is the route CreateAnon must take (Linux only):
// SHMDEBUG's anon key (memfd, tmpfile or random), or, set by a test binary
// (export_linux_test.go), the file dialect of another system rooted in
// /dev/shm ("openbsd", "netbsd", "dragonfly", "solaris").
var anonRoute = func() string {
	s, _ := shmdebug.Get()
	return s.Anon
}()

// anonNotForced returns an error where no route can be forced: on every
// system but Linux, which has more than one.
func anonNotForced() error {
	if anonRoute != "" && runtime.GOOS != "linux" {
		return fmt.Errorf("%s anon=%s: strategies can only be forced on linux", shmdebug.Var, anonRoute)
	}
	return nil
}
