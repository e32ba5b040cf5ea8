package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// anonMeanings explains the anonymous strategies the library reports.
var anonMeanings = map[string]string{
	"memfd": "Anonymous objects are memfds: they never have a name, so no cleaner " +
		"(tmpfiles, RemoveIPC) can delete them; the kernel frees one when its last " +
		"descriptor and mapping are gone.",
	"tmpfile": "Anonymous objects are O_TMPFILE files on /dev/shm: nameless, so no cleaner " +
		"can delete them, but they count against the /dev/shm size limit.",
	"shm_open": "Anonymous objects come from shm_open(SHM_ANON): nameless kernel objects " +
		"that no cleaner can reach.",
	"shm_open2": "Anonymous objects come from shm_open2(SHM_ANON): nameless kernel objects " +
		"that no cleaner can reach.",
}

// checkAnonStrategy reports how anonymous objects are made here.
func checkAnonStrategy(r *runner) Finding {
	if r.env.GOOS == "windows" {
		return checkSections(r)
	}
	if !Supported(r.env.GOOS) {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %s has no POSIX shared memory", r.env.GOOS),
			Meaning: "shm returns errors wrapping errors.ErrUnsupported on this OS.",
			Remedy:  "None: run on a Unix host.",
		}
	}
	if r.env.AnonProbe == nil {
		return Finding{
			Status:  Skip,
			Summary: "not checked: no anonymous-object probe was wired into this build",
			Meaning: "Which route (memfd, SHM_ANON, random name + unlink) makes anonymous objects here is unknown.",
			Remedy:  "Create one with shm.CreateAnon and read its Strategy() to see the route.",
		}
	}
	s, err := r.env.AnonProbe()
	if err != nil {
		f := Finding{
			Status:  Fail,
			Summary: fmt.Sprintf("creating an anonymous object failed: %v", err),
			Meaning: "Programs cannot make unnamed shared memory on this host; only named objects may work.",
			Remedy:  "Read the error: a seccomp filter or sandbox may forbid memfd_create/shm_open, /dev/shm may be missing or full, or vm.memfd_noexec may reject the call.",
		}
		if errors.Is(err, errors.ErrUnsupported) {
			f.Remedy = "This OS has no anonymous shared memory in shm; use named objects."
		}
		return f
	}
	meaning, ok := anonMeanings[s]
	if !ok {
		if strings.HasPrefix(s, "random") {
			meaning = "Anonymous objects are named objects with a random name, unlinked at once: " +
				"they have a name only for an instant, so cleaners cannot catch them."
		} else {
			meaning = "Anonymous objects use the " + s + " route; they are unlinked or nameless, out of cleaners' reach."
		}
	}
	f := Finding{
		Status:  OK,
		Summary: fmt.Sprintf("anonymous objects are made with %q", s),
		Meaning: meaning,
	}
	if (r.env.GOOS == "linux" || r.env.GOOS == "android") && s != "memfd" {
		f.Status = Warn
		f.Summary += ", not memfd: memfd_create is missing (kernel before 3.17), forbidden (a seccomp filter answering EPERM or ENOSYS), or SHMDEBUG=anon=... forces another route"
		f.Meaning += " Unlike memfds, these objects live on /dev/shm and count against its size, which is small in containers."
		f.Remedy = "Allow memfd_create in the seccomp profile (Docker's default profile allows it), or remove anon=... from SHMDEBUG."
	}
	return f
}

// checkMemfdNoexec reads vm.memfd_noexec (Linux 6.3+).
func checkMemfdNoexec(r *runner) Finding {
	if r.env.GOOS != "linux" && r.env.GOOS != "android" {
		return r.skipOS("the vm.memfd_noexec sysctl", "Linux")
	}
	const p = "/proc/sys/vm/memfd_noexec"
	b, err := r.readFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := r.stat("/proc/sys/vm"); err != nil {
			return Finding{
				Status:  Skip,
				Summary: "not checked: /proc/sys/vm is not readable (is /proc mounted?)",
				Meaning: "Whether the kernel restricts memfd_create's exec flags is unknown.",
				Remedy:  "Run the doctor where /proc is mounted.",
			}
		}
		return Finding{
			Status:  OK,
			Summary: p + " does not exist: the kernel predates 6.3 and has no memfd exec policy",
			Meaning: "memfd_create accepts the flags shm passes; it retries without MFD_NOEXEC_SEAL where the kernel does not know it.",
		}
	}
	if err != nil {
		return Finding{
			Status:  Skip,
			Summary: fmt.Sprintf("not checked: %v", err),
			Meaning: "Whether the kernel restricts memfd_create's exec flags is unknown.",
			Remedy:  "Run the doctor with permission to read " + p + ".",
		}
	}
	v := strings.TrimSpace(string(b))
	switch v {
	case "0":
		return Finding{
			Status:  OK,
			Summary: "vm.memfd_noexec = 0: memfd_create without an exec flag makes executable memfds (the old default)",
			Meaning: "shm passes MFD_NOEXEC_SEAL itself, so its anonymous objects are never executable; other programs are not restricted.",
		}
	case "1":
		return Finding{
			Status:  OK,
			Summary: "vm.memfd_noexec = 1: memfd_create without an exec flag gets MFD_NOEXEC_SEAL",
			Meaning: "Anonymous objects are non-executable by default; shm asks for that anyway. Programs that need executable memfds must pass MFD_EXEC.",
		}
	case "2":
		return Finding{
			Status: Warn,
			Summary: "vm.memfd_noexec = 2: executable memfds are forbidden; memfd_create without MFD_NOEXEC_SEAL " +
				"fails with EINVAL on kernels around 6.3-6.6 (newer ones force the seal and refuse MFD_EXEC with EACCES)",
			Meaning: "shm passes MFD_NOEXEC_SEAL and keeps working, but C peers and older libraries that call " +
				"memfd_create(name, MFD_CLOEXEC) may fail, and nothing can map a memfd executable (JITs). " +
				"The setting belongs to the PID namespace: a container can tighten it but not loosen it.",
			Remedy: "If a program breaks, set `sysctl -w vm.memfd_noexec=1` (non-executable by default, MFD_EXEC still allowed) " +
				"in the namespace that starts it, or make the program pass MFD_NOEXEC_SEAL.",
		}
	}
	return Finding{
		Status:  Warn,
		Summary: fmt.Sprintf("vm.memfd_noexec has an unknown value %q", v),
		Meaning: "The kernel's memfd exec policy is not one this check knows (0, 1 or 2); memfd_create may behave unexpectedly.",
		Remedy:  "Read the kernel's Documentation/userspace-api/mfd_noexec.rst for this value.",
	}
}
