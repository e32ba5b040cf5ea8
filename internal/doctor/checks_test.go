package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shm/internal/fence"
)

// fixture is a host tree under a temporary directory.
type fixture struct {
	t    *testing.T
	root string
	fs   map[string]FS // what Statfs reports per host path
	env  Env
}

func newFixture(t *testing.T, goos string) *fixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		// Also under wine, where t.TempDir's cleanup fails besides.
		t.Skip("the doctor's fixtures are Unix trees whose modes (1777, 0755) a Windows file system cannot hold")
	}
	f := &fixture{t: t, root: t.TempDir(), fs: map[string]FS{}}
	f.env = Env{
		Root: f.root,
		GOOS: goos,
		Now:  time.Now(),
		UID:  1000,
		User: "alice",
		Statfs: func(p string) (FS, error) {
			if v, ok := f.fs[p]; ok {
				return v, nil
			}
			return FS{}, &fs.PathError{Op: "statfs", Path: p, Err: fs.ErrNotExist}
		},
		RlimitNofile: func() (uint64, uint64, error) { return 1024, 4096, nil },
	}
	return f
}

func (f *fixture) abs(p string) string { return filepath.Join(f.root, filepath.FromSlash(p)) }

// write creates host file p with content.
func (f *fixture) write(p, content string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.abs(p)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(f.abs(p), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// copy creates host file p from a testdata file.
func (f *fixture) copy(p, testdata string) {
	f.t.Helper()
	f.write(p, string(readTestdata(f.t, testdata)))
}

// mkdir creates host directory p with exactly the Unix mode bits perm
// (0o1777 sets the sticky bit).
func (f *fixture) mkdir(p string, perm uint32) {
	f.t.Helper()
	if err := os.MkdirAll(f.abs(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	mode := fs.FileMode(perm & 0o777)
	if perm&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	if err := os.Chmod(f.abs(p), mode); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) symlink(p, target string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.abs(p)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(target, f.abs(p)); err != nil {
		f.t.Fatal(err)
	}
}

// systemd makes the fixture a host booted with systemd.
func (f *fixture) systemd() {
	f.mkdir("/run/systemd/system", 0o755)
	f.write("/usr/lib/systemd/systemd-logind", "")
	f.write("/usr/bin/systemd-tmpfiles", "")
}

// run runs every check and checks what holds for every finding.
func (f *fixture) run() map[string]Finding {
	f.t.Helper()
	fs, err := Run(context.Background(), f.env)
	if err != nil {
		f.t.Fatal(err)
	}
	checkFindings(f.t, fs)
	m := map[string]Finding{}
	for _, x := range fs {
		m[x.ID] = x
	}
	return m
}

// one runs the checks and returns the finding id, requiring status want
// and that the summary holds every string of contains.
func (f *fixture) one(id string, want Status, contains ...string) Finding {
	f.t.Helper()
	got := f.run()[id]
	if got.Status != want {
		f.t.Fatalf("%s: status %s, want %s\n%s", id, got.Status, want, dump(got))
	}
	for _, c := range contains {
		if !strings.Contains(got.Summary, c) {
			f.t.Errorf("%s: summary lacks %q\n%s", id, c, dump(got))
		}
	}
	return got
}

func dump(f Finding) string {
	return fmt.Sprintf("  summary: %s\n  meaning: %s\n  remedy:  %s", f.Summary, f.Meaning, f.Remedy)
}

// checkFindings checks the promises every report keeps.
func checkFindings(t *testing.T, fs []Finding) {
	t.Helper()
	ids := IDs()
	if len(fs) != len(ids) {
		t.Fatalf("%d findings, want %d", len(fs), len(ids))
	}
	for i, f := range fs {
		if f.ID != ids[i] {
			t.Errorf("finding %d has ID %q, want %q", i, f.ID, ids[i])
		}
		if !f.Status.Valid() {
			t.Errorf("%s: invalid status %q", f.ID, f.Status)
		}
		if strings.TrimSpace(f.Summary) == "" || strings.TrimSpace(f.Meaning) == "" {
			t.Errorf("%s: empty summary or meaning: %+v", f.ID, f)
		}
		if f.Status != OK && strings.TrimSpace(f.Remedy) == "" {
			t.Errorf("%s: status %s without a remedy", f.ID, f.Status)
		}
		if f.Status == Skip && !strings.HasPrefix(f.Summary, "not checked: ") {
			t.Errorf("%s: a skip must say why it did not look: %q", f.ID, f.Summary)
		}
	}
}

func TestRunIDsAndCancel(t *testing.T) {
	f := newFixture(t, "linux")
	f.run()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fs, err := Run(ctx, f.env)
	if !errors.Is(err, context.Canceled) || len(fs) != 0 {
		t.Fatalf("Run(canceled) = %d findings, %v", len(fs), err)
	}
	seen := map[string]bool{}
	for _, id := range IDs() {
		if seen[id] || !strings.Contains(id, ".") {
			t.Errorf("ID %q duplicated or malformed", id)
		}
		seen[id] = true
	}
}

func TestRunEveryOS(t *testing.T) {
	for _, goos := range []string{"linux", "freebsd", "openbsd", "netbsd", "dragonfly", "darwin", "illumos", "solaris", "windows", "js", "wasip1"} {
		t.Run(goos, func(t *testing.T) {
			f := newFixture(t, goos)
			got := f.run()
			// On windows anon.strategy says what decides a section's
			// lifetime (checkSections); the other systems skip it.
			if !Supported(goos) && goos != "windows" && got[IDAnonStrategy].Status != Skip {
				t.Errorf("anon.strategy on %s: %s", goos, got[IDAnonStrategy].Status)
			}
		})
	}
}

func TestAnonStrategy(t *testing.T) {
	f := newFixture(t, "linux")
	f.one(IDAnonStrategy, Skip, "no anonymous-object probe")

	f.env.AnonProbe = func() (string, error) { return "memfd", nil }
	f.one(IDAnonStrategy, OK, `"memfd"`)

	f.env.AnonProbe = func() (string, error) { return "tmpfile", nil }
	g := f.one(IDAnonStrategy, Warn, `"tmpfile"`, "not memfd")
	if !strings.Contains(g.Remedy, "seccomp") {
		t.Errorf("remedy: %s", g.Remedy)
	}

	f.env.AnonProbe = func() (string, error) { return "", errors.New("memfd_create: operation not permitted") }
	f.one(IDAnonStrategy, Fail, "operation not permitted")

	b := newFixture(t, "freebsd")
	b.env.AnonProbe = func() (string, error) { return "shm_open2", nil }
	if g := b.one(IDAnonStrategy, OK, "shm_open2"); !strings.Contains(g.Meaning, "SHM_ANON") {
		t.Errorf("meaning: %s", g.Meaning)
	}
	o := newFixture(t, "openbsd")
	o.env.AnonProbe = func() (string, error) { return "random-openbsd", nil }
	o.one(IDAnonStrategy, OK, "random-openbsd")

	w := newFixture(t, "windows")
	w.env.AnonProbe = func() (string, error) { return "section", nil }
	if g := w.one(IDAnonStrategy, OK, "strategy section", "paging-file sections"); !strings.Contains(g.Meaning, "last handle") {
		t.Errorf("meaning: %s", g.Meaning)
	}
	w.env.AnonProbe = func() (string, error) { return "", errors.New("CreateFileMapping: commit limit") }
	w.one(IDAnonStrategy, Fail, "commit limit")
	j := newFixture(t, "js")
	j.env.AnonProbe = func() (string, error) { t.Fatal("probe called on js"); return "", nil }
	j.one(IDAnonStrategy, Skip, "js")
}

func TestMemfdNoexec(t *testing.T) {
	f := newFixture(t, "linux")
	f.one(IDMemfdNoexec, Skip, "/proc/sys/vm")

	f.mkdir("/proc/sys/vm", 0o755)
	f.one(IDMemfdNoexec, OK, "predates 6.3")

	for v, want := range map[string]Status{"0\n": OK, "1\n": OK, "2\n": Warn, "3\n": Warn} {
		f.write("/proc/sys/vm/memfd_noexec", v)
		g := f.one(IDMemfdNoexec, want, strings.TrimSpace(v))
		if v == "2\n" && (!strings.Contains(g.Summary, "MFD_NOEXEC_SEAL") || !strings.Contains(g.Remedy, "vm.memfd_noexec=1")) {
			t.Errorf("value 2 not explained:\n%s", dump(g))
		}
	}
	newFixture(t, "freebsd").one(IDMemfdNoexec, Skip, "Linux only")
}

func TestDevShm(t *testing.T) {
	t.Run("docker 64MiB", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.copy("/proc/self/mountinfo", "mountinfo/docker.mountinfo")
		f.fs["/dev/shm"] = FS{Type: "tmpfs", Size: 64 << 20, Free: 60 << 20}
		g := f.one(IDDevShmSize, Warn, "tmpfs", "64.0 MiB", "60.0 MiB free", "mode 1777")
		for _, r := range []string{"--shm-size", "medium: Memory", "remount,size="} {
			if !strings.Contains(g.Remedy, r) {
				t.Errorf("remedy lacks %q: %s", r, g.Remedy)
			}
		}
	})
	t.Run("size from mountinfo when statfs fails", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.copy("/proc/self/mountinfo", "mountinfo/docker.mountinfo")
		f.one(IDDevShmSize, Warn, "64.0 MiB", "free space unknown (statfs /dev/shm")
	})
	t.Run("healthy host", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.copy("/proc/self/mountinfo", "mountinfo/vm.mountinfo")
		f.fs["/dev/shm"] = FS{Type: "tmpfs", Size: 24683620 << 10, Free: 24683620 << 10}
		f.one(IDDevShmSize, OK, "tmpfs", "23.5 GiB")
	})
	t.Run("unlimited tmpfs", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.write("/proc/self/mountinfo", "30 23 0:26 / /dev/shm rw - tmpfs tmpfs rw,size=0\n")
		f.fs["/dev/shm"] = FS{Type: "tmpfs"}
		f.one(IDDevShmSize, OK, "no size limit")
	})
	t.Run("missing", func(t *testing.T) {
		f := newFixture(t, "linux")
		g := f.one(IDDevShmSize, Fail, "does not exist")
		if !strings.Contains(g.Remedy, "mount -t tmpfs") {
			t.Errorf("remedy: %s", g.Remedy)
		}
	})
	t.Run("a file", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.write("/dev/shm", "")
		f.one(IDDevShmSize, Fail, "not a directory")
	})
	t.Run("plain directory on overlay", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.write("/proc/self/mountinfo", "585 505 0:52 / / rw - overlay overlay rw\n")
		f.fs["/dev/shm"] = FS{Type: "overlay", Size: 100 << 30, Free: 50 << 30}
		f.one(IDDevShmSize, Warn, "not a mount point", "overlay")
	})
	t.Run("mode", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o755)
		f.copy("/proc/self/mountinfo", "mountinfo/vm.mountinfo")
		f.fs["/dev/shm"] = FS{Type: "tmpfs", Size: 1 << 30, Free: 1 << 30}
		g := f.one(IDDevShmSize, Warn, "mode 0755")
		if !strings.Contains(g.Remedy, "chmod 1777") {
			t.Errorf("remedy: %s", g.Remedy)
		}
	})
	t.Run("nearly full", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.copy("/proc/self/mountinfo", "mountinfo/vm.mountinfo")
		f.fs["/dev/shm"] = FS{Type: "tmpfs", Size: 1 << 30, Free: 10 << 20}
		f.one(IDDevShmSize, Warn, "10.0 MiB free")
	})
	t.Run("symlink to /run/shm", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/run/shm", 0o1777)
		f.symlink("/dev/shm", "/run/shm")
		f.write("/proc/self/mountinfo", "40 30 0:40 / /run/shm rw,nosuid,nodev - tmpfs tmpfs rw,size=1048576k,mode=1777\n")
		f.fs["/run/shm"] = FS{Type: "tmpfs", Size: 1 << 30, Free: 1 << 30}
		f.one(IDDevShmSize, OK, "/dev/shm -> /run/shm", "1.0 GiB")
	})
	newFixture(t, "darwin").one(IDDevShmSize, Skip, "Linux only")
}

func TestLogind(t *testing.T) {
	t.Run("no logind", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.copy("/etc/systemd/logind.conf", "logind/debian12-logind.conf")
		f.mkdir("/run/systemd/seats", 0o755) // a leftover in a container image
		f.one(IDLogindRemoveIPC, Skip, "not the init system", "/etc/systemd/logind.conf exists but nothing reads it")
	})
	t.Run("Debian default, regular user", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/etc/systemd/logind.conf", "logind/debian12-logind.conf")
		f.copy("/etc/login.defs", "logindefs/debian12-login.defs")
		g := f.one(IDLogindRemoveIPC, Warn, "RemoveIPC=yes (the default", "uid 1000 (alice)", "regular user (above 999)")
		for _, r := range []string{"RemoveIPC=no", "system user", "loginctl enable-linger alice"} {
			if !strings.Contains(g.Remedy, r) {
				t.Errorf("remedy lacks %q: %s", r, g.Remedy)
			}
		}
		if !strings.Contains(g.Meaning, "PostgreSQL") {
			t.Errorf("meaning: %s", g.Meaning)
		}
	})
	t.Run("system user", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.env.UID, f.env.User = 0, "root"
		f.one(IDLogindRemoveIPC, OK, "uid 0 (root), a system user")
	})
	t.Run("login.defs boundary", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/login.defs", "SYS_UID_MAX 499\n")
		f.env.UID, f.env.User = 600, "svc"
		f.one(IDLogindRemoveIPC, Warn, "above 499")
		f.write("/etc/login.defs", "SYS_UID_MAX 999\n")
		f.one(IDLogindRemoveIPC, OK, "a system user")
	})
	t.Run("unknown user", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.env.UID, f.env.User = -1, ""
		f.one(IDLogindRemoveIPC, Warn, "current user is unknown")
	})
	t.Run("lingering", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/var/lib/systemd/linger/alice", "")
		f.one(IDLogindRemoveIPC, OK, "lingering enabled")
	})
	t.Run("drop-in RemoveIPC=no", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/etc/systemd/logind.conf", "logind/debian12-logind.conf")
		f.copy("/etc/systemd/logind.conf.d/10-shm.conf", "logind/removeipc-no.conf")
		f.one(IDLogindRemoveIPC, OK, "RemoveIPC=no (set in /etc/systemd/logind.conf.d/10-shm.conf:5)")
	})
	t.Run("main file in /usr/lib", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/usr/lib/systemd/logind.conf", "[Login]\nRemoveIPC=no\n")
		f.one(IDLogindRemoveIPC, OK, "/usr/lib/systemd/logind.conf:2")
		f.write("/etc/systemd/logind.conf", "[Login]\n#RemoveIPC=no\n")
		f.one(IDLogindRemoveIPC, Warn, "the default") // /etc's main file hides /usr/lib's
	})
	t.Run("same name: /etc overrides /usr/lib", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/usr/lib/systemd/logind.conf.d/10-shm.conf", "[Login]\nRemoveIPC=no\n")
		f.write("/etc/systemd/logind.conf.d/10-shm.conf", "[Login]\nRemoveIPC=yes\n")
		f.one(IDLogindRemoveIPC, Warn, "RemoveIPC=yes (set in /etc/systemd/logind.conf.d/10-shm.conf:2)")
	})
	t.Run("later name wins, whatever the directory", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/systemd/logind.conf.d/10-admin.conf", "[Login]\nRemoveIPC=yes\n")
		f.write("/usr/lib/systemd/logind.conf.d/20-vendor.conf", "[Login]\nRemoveIPC=off\n")
		f.one(IDLogindRemoveIPC, OK, "RemoveIPC=no (set in /usr/lib/systemd/logind.conf.d/20-vendor.conf:2)")
		f.write("/run/systemd/logind.conf.d/30-runtime.conf", "[Login]\nRemoveIPC=1\n")
		f.one(IDLogindRemoveIPC, Warn, "30-runtime.conf:2")
	})
	t.Run("masked drop-in", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/usr/lib/systemd/logind.conf.d/10-shm.conf", "[Login]\nRemoveIPC=no\n")
		f.symlink("/etc/systemd/logind.conf.d/10-shm.conf", "/dev/null")
		f.one(IDLogindRemoveIPC, Warn, "the default", "is masked")
	})
	t.Run("broken drop-in stops parsing", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/etc/systemd/logind.conf.d/50-tricky.conf", "logind/tricky.conf")
		f.write("/etc/systemd/logind.conf.d/90-late.conf", "[Login]\nRemoveIPC=no\n")
		f.one(IDLogindRemoveIPC, Warn, "the default", "invalid section header", `invalid boolean "maybe"`)
	})
	t.Run("elogind", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.write("/proc/1/comm", "openrc-init\n")
		f.write("/proc/812/comm", "elogind-daemon\n")
		f.write("/proc/self/comm", "doctor\n")
		f.write("/etc/elogind/logind.conf", "[Login]\nRemoveIPC=no\n")
		f.one(IDLogindRemoveIPC, OK, "elogind: RemoveIPC=no (set in /etc/elogind/logind.conf:2)", "elogind-daemon is running")
	})
	t.Run("systemd-logind process without /run/systemd/system", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.write("/proc/420/comm", "systemd-logind\n")
		f.one(IDLogindRemoveIPC, Warn, "systemd-logind is running")
	})
	newFixture(t, "freebsd").one(IDLogindRemoveIPC, Skip, "Linux only")
}

func TestTmpfiles(t *testing.T) {
	debian := func(f *fixture) {
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/debian12-tmp.conf")
		f.copy("/usr/lib/tmpfiles.d/x11.conf", "tmpfiles/x11.conf")
		f.copy("/usr/lib/tmpfiles.d/systemd-tmp.conf", "tmpfiles/systemd-tmp.conf")
		f.copy("/usr/lib/tmpfiles.d/debian.conf", "tmpfiles/debian.conf")
	}
	t.Run("not installed", func(t *testing.T) {
		newFixture(t, "linux").one(IDTmpfilesAge, Skip, "not installed")
	})
	t.Run("Debian 12", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		debian(f)
		f.one(IDTmpfilesAge, OK, "4 tmpfiles.d files", "/dev/shm: no rule", "/usr/lib/tmpfiles.d/tmp.conf:11", "no age")
	})
	t.Run("upstream q /tmp 10d", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/upstream-tmp.conf")
		g := f.one(IDTmpfilesAge, Warn, "/tmp: aged after 10d", "/usr/lib/tmpfiles.d/tmp.conf:13")
		if !strings.Contains(g.Meaning, "KeepAlive") || !strings.Contains(g.Meaning, "flock") {
			t.Errorf("meaning does not tell about KeepAlive: %s", g.Meaning)
		}
	})
	t.Run("RHEL 7 v /tmp 10d", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/rhel7-tmp.conf")
		f.one(IDTmpfilesAge, Warn, "/tmp: aged after 10d")
	})
	t.Run("without systemd nothing runs the rules", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/upstream-tmp.conf")
		f.one(IDTmpfilesAge, OK, "aged after 10d", "no timer runs")
	})
	t.Run("/etc overrides /usr/lib by name", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/upstream-tmp.conf")
		f.copy("/etc/tmpfiles.d/tmp.conf", "tmpfiles/debian12-tmp.conf")
		f.one(IDTmpfilesAge, OK, "/etc/tmpfiles.d/tmp.conf:11")
	})
	t.Run("masked", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/upstream-tmp.conf")
		f.symlink("/etc/tmpfiles.d/tmp.conf", "/dev/null")
		f.one(IDTmpfilesAge, OK, "0 tmpfiles.d files", "/tmp: no rule")
	})
	t.Run("earlier file owns the path", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/usr/lib/tmpfiles.d/tmp.conf", "tmpfiles/upstream-tmp.conf")
		f.write("/etc/tmpfiles.d/00-keep-tmp.conf", "D /tmp 1777 root root -\n")
		f.one(IDTmpfilesAge, OK, "00-keep-tmp.conf:1", "no age")
	})
	t.Run("e line adds aging to an owned path", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		debian(f)
		f.write("/etc/tmpfiles.d/zz-age.conf", "e /tmp - - - 3d\n")
		f.one(IDTmpfilesAge, Warn, "/tmp: aged after 3d", "zz-age.conf:1")
	})
	t.Run("boot-only lines do not age", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/tmpfiles.d/boot.conf", "D! /tmp 1777 root root 1d\n")
		f.one(IDTmpfilesAge, OK, "/tmp: no rule")
	})
	t.Run("/dev/shm aged, with exclusions", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.copy("/etc/tmpfiles.d/devshm.conf", "tmpfiles/devshm-aging.conf")
		f.one(IDTmpfilesAge, Warn, "/dev/shm: aged after 1d", "devshm.conf:3")
	})
	t.Run("second level only", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/tmpfiles.d/deep.conf", "d /tmp 1777 root root ~10d\n")
		f.one(IDTmpfilesAge, OK, "only sub-directories aged")
	})
	t.Run("everything excluded", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/tmpfiles.d/shm.conf", "e /dev/shm - - - 1d\nx /dev/shm/*\n")
		f.one(IDTmpfilesAge, OK, "/dev/shm: entries excluded")
	})
	t.Run("a line too long to read is reported", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/tmpfiles.d/long.conf", "# "+strings.Repeat("x", 1<<20)+"\nq /tmp 1777 root root 10d\n")
		f.one(IDTmpfilesAge, OK, "long.conf:1", "token too long", "the rest of the file was not read")
	})
	t.Run("bad lines are reported", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.systemd()
		f.write("/etc/tmpfiles.d/bad.conf", "q /tmp 1777 root root ten-days\ny /tmp\n")
		f.one(IDTmpfilesAge, OK, "bad.conf:1", "bad.conf:2", "unknown type")
	})
	newFixture(t, "openbsd").one(IDTmpfilesAge, Skip, "Linux only")
}

func TestOpenBSDDaily(t *testing.T) {
	for _, tt := range []struct {
		file     string
		want     Status
		contains []string
	}{
		{"openbsd-1.101", OK, []string{"/etc/daily:50", "-atime +7", "spares *.shm and *.sem"}},
		{"openbsd-1.95", Warn, []string{"/etc/daily:50", "-atime +7", "deletes .shm and .sem files too"}},
		{"openbsd-2009-style", Warn, []string{"-atime +3"}},
		{"openbsd-commented", OK, []string{"no find command"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f := newFixture(t, "openbsd")
			f.copy("/etc/daily", "daily/"+tt.file)
			g := f.one(IDOpenBSDDaily, tt.want, tt.contains...)
			if tt.want == Warn && (!strings.Contains(g.Remedy, "KeepAlive") || !strings.Contains(g.Remedy, "./*.s[eh]m")) {
				t.Errorf("remedy: %s", g.Remedy)
			}
		})
	}
	t.Run("no script", func(t *testing.T) {
		newFixture(t, "openbsd").one(IDOpenBSDDaily, OK, "no /etc/daily")
	})
	t.Run("daily.local sweeps too", func(t *testing.T) {
		f := newFixture(t, "openbsd")
		f.copy("/etc/daily", "daily/openbsd-1.101")
		f.copy("/etc/daily.local", "daily/daily.local-aggressive")
		g := f.one(IDOpenBSDDaily, Warn, "/etc/daily.local:3", "-mtime +2", "/etc/daily:50")
		if !strings.Contains(g.Meaning, "modification") {
			t.Errorf("meaning: %s", g.Meaning)
		}
	})
	t.Run("semaphores only", func(t *testing.T) {
		f := newFixture(t, "openbsd")
		f.write("/etc/daily", "cd /tmp && find . -type f ! -name '*.shm' -atime +5 -delete\n")
		g := f.one(IDOpenBSDDaily, Warn, "spares *.shm but not *.sem")
		if !strings.Contains(g.Meaning, ".sem files") || !strings.Contains(g.Meaning, "5 days") {
			t.Errorf("meaning: %s", g.Meaning)
		}
	})
	newFixture(t, "linux").one(IDOpenBSDDaily, Skip, "OpenBSD only")
}

func TestNetBSDVarShm(t *testing.T) {
	t.Run("sysinst", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.copy("/etc/fstab", "fstab/netbsd-sysinst.fstab")
		f.mkdir("/var/shm", 0o1777)
		f.fs["/var/shm"] = FS{Type: "tmpfs", Size: 1 << 30, Free: 1 << 30}
		g := f.one(IDNetBSDVarShm, OK, "/var/shm is tmpfs, mode 1777", "rw,-m1777,-sram%25")
		// Anonymous objects need /var/shm too before NetBSD 11: the
		// text must not say that memfds spare every NetBSD from it.
		if !strings.Contains(g.Meaning, "before NetBSD 11") || !strings.Contains(g.Meaning, "from NetBSD 11 anonymous objects are memfds") {
			t.Errorf("meaning: %s", g.Meaning)
		}
	})
	t.Run("symbolic link", func(t *testing.T) {
		// librt's _shm_check_fs since shm.c 1.3 (2015, in every release
		// Go supports) opens /var/shm with O_DIRECTORY and checks the
		// fstat and fstatvfs1 of that descriptor: a symbolic link to a
		// tmpfs with mode 01777 is accepted, and so it is here.
		f := newFixture(t, "netbsd")
		f.copy("/etc/fstab", "fstab/netbsd-sysinst.fstab")
		f.mkdir("/var/shm-real", 0o1777)
		if err := os.Symlink("shm-real", f.abs("/var/shm")); err != nil {
			t.Fatal(err)
		}
		f.fs["/var/shm"] = FS{Type: "tmpfs", Size: 1 << 30, Free: 1 << 30}
		f.one(IDNetBSDVarShm, OK, "/var/shm is tmpfs, mode 1777")
	})
	t.Run("commented out, not mounted", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.copy("/etc/fstab", "fstab/netbsd-small-memory.fstab")
		f.mkdir("/var/shm", 0o755)
		f.fs["/var/shm"] = FS{Type: "ffs"}
		g := f.one(IDNetBSDVarShm, Fail, "/var/shm is ffs", "commented out")
		if !strings.Contains(g.Remedy, "tmpfs /var/shm tmpfs rw,-m1777,-sram%25") {
			t.Errorf("remedy: %s", g.Remedy)
		}
	})
	t.Run("in fstab, not mounted", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.copy("/etc/fstab", "fstab/netbsd-sysinst.fstab")
		f.mkdir("/var/shm", 0o755)
		f.fs["/var/shm"] = FS{Type: "ffs"}
		g := f.one(IDNetBSDVarShm, Fail, "/var/shm is ffs")
		if !strings.Contains(g.Remedy, "`mount /var/shm`") {
			t.Errorf("remedy: %s", g.Remedy)
		}
	})
	t.Run("wrong mode", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.copy("/etc/fstab", "fstab/netbsd-sysinst.fstab")
		f.mkdir("/var/shm", 0o777)
		f.fs["/var/shm"] = FS{Type: "tmpfs"}
		f.one(IDNetBSDVarShm, Fail, "mode 0777")
	})
	t.Run("mounted by hand", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.mkdir("/var/shm", 0o1777)
		f.fs["/var/shm"] = FS{Type: "tmpfs"}
		f.one(IDNetBSDVarShm, Warn, "no /var/shm line")
	})
	t.Run("fstab mode wrong", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.write("/etc/fstab", "tmpfs /var/shm tmpfs rw,-m0755\n")
		f.mkdir("/var/shm", 0o1777)
		f.fs["/var/shm"] = FS{Type: "tmpfs"}
		f.one(IDNetBSDVarShm, Warn, "-m0755")
	})
	t.Run("no directory", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.one(IDNetBSDVarShm, Fail, "does not exist", "no /var/shm line")
	})
	t.Run("no statfs", func(t *testing.T) {
		f := newFixture(t, "netbsd")
		f.mkdir("/var/shm", 0o1777)
		f.env.Statfs = nil
		f.one(IDNetBSDVarShm, Skip, "no statfs")
	})
	newFixture(t, "linux").one(IDNetBSDVarShm, Skip, "NetBSD only")
}

// touch sets a fixture file's access and modification times.
func (f *fixture) touch(p string, at time.Time) {
	f.t.Helper()
	if err := os.Chtimes(f.abs(p), at, at); err != nil {
		f.t.Fatal(err)
	}
}

func TestObjectsAtRiskLinux(t *testing.T) {
	setup := func(t *testing.T) *fixture {
		f := newFixture(t, "linux")
		f.systemd()
		f.env.UID, f.env.User = 0, "root"
		f.mkdir("/dev/shm", 0o1777)
		// Files made now have every timestamp at the real now; looking
		// from 20 days later makes them 20 days idle. Fresh ones are
		// touched to the fixture's now.
		f.env.Now = time.Now().Add(20*day + time.Hour)
		for _, n := range []string{"old-a", "sem.old-b", "PostgreSQL.1804289383", "keep.cache", "fresh"} {
			f.write("/dev/shm/"+n, "x")
		}
		f.touch("/dev/shm/fresh", f.env.Now)
		f.mkdir("/dev/shm/subdir", 0o755)
		return f
	}
	t.Run("no cleaner", func(t *testing.T) {
		f := setup(t)
		f.env.UID, f.env.User = 0, "root"
		if err := os.RemoveAll(f.abs("/usr/lib/systemd/systemd-logind")); err != nil {
			t.Fatal(err)
		}
		g := f.one(IDObjectsAtRisk, OK, "5 named objects in /dev/shm, none at risk", "no active cleaner")
		if len(g.AtRisk) != 0 || len(g.Cleaners) != 0 {
			t.Errorf("no cleaner: AtRisk %v, Cleaners %v; want none", g.AtRisk, g.Cleaners)
		}
	})
	t.Run("tmpfiles ages /dev/shm", func(t *testing.T) {
		f := setup(t)
		f.copy("/etc/tmpfiles.d/devshm.conf", "tmpfiles/devshm-aging.conf")
		g := f.one(IDObjectsAtRisk, Warn, "2 of 5 named objects", "/dev/shm/old-a (idle 20d > 1d", "/dev/shm/sem.old-b")
		for _, safe := range []string{"fresh", "PostgreSQL", "keep.cache", "subdir"} {
			if strings.Contains(g.Summary, safe) {
				t.Errorf("%s listed as at risk: %s", safe, g.Summary)
			}
		}
		if !strings.Contains(g.Remedy, "KeepAlive") {
			t.Errorf("remedy: %s", g.Remedy)
		}
		if len(g.AtRisk) != 2 || g.AtRisk[0].Path != "/dev/shm/old-a" || !strings.HasPrefix(g.AtRisk[0].Reason, "idle 20d > 1d") ||
			g.AtRisk[1].Path != "/dev/shm/sem.old-b" {
			t.Errorf("AtRisk = %+v; want old-a and sem.old-b with reasons", g.AtRisk)
		}
		if len(g.Cleaners) == 0 || !strings.Contains(g.Cleaners[0], "tmpfiles ages /dev/shm after 1d") {
			t.Errorf("Cleaners = %q; want the tmpfiles rule", g.Cleaners)
		}
	})
	t.Run("only modification time counts", func(t *testing.T) {
		f := setup(t)
		f.write("/etc/tmpfiles.d/devshm.conf", "e /dev/shm - - - m:1d\n")
		// Read recently, written long ago: still deleted under "m:".
		at := f.env.Now
		if err := os.Chtimes(f.abs("/dev/shm/old-a"), at, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.one(IDObjectsAtRisk, Warn, "/dev/shm/old-a")
	})
	t.Run("tmpfiles rules but no systemd", func(t *testing.T) {
		f := setup(t)
		if err := os.RemoveAll(f.abs("/run/systemd/system")); err != nil {
			t.Fatal(err)
		}
		f.copy("/etc/tmpfiles.d/devshm.conf", "tmpfiles/devshm-aging.conf")
		f.one(IDObjectsAtRisk, OK, "none at risk")
	})
	t.Run("RemoveIPC and a regular owner", func(t *testing.T) {
		f := setup(t)
		p := f.abs("/dev/shm/old-a")
		switch {
		case os.Getuid() == 0:
			if err := os.Lchown(p, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		case os.Getuid() <= DefaultSysUIDMax:
			t.Skipf("cannot make a file owned by a regular user: running as system uid %d without root", os.Getuid())
		}
		f.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbob:x:4242:4242::/home/bob:/bin/sh\n")
		g := f.one(IDObjectsAtRisk, Warn, "/dev/shm/old-a (owned by regular user uid 4242 (bob)")
		if !strings.Contains(g.Meaning, "RemoveIPC") {
			t.Errorf("meaning: %s", g.Meaning)
		}
		f.write("/var/lib/systemd/linger/bob", "")
		f.one(IDObjectsAtRisk, OK, "none at risk")
	})
	t.Run("many", func(t *testing.T) {
		f := setup(t)
		f.write("/etc/tmpfiles.d/devshm.conf", "e /dev/shm - - - 1h\n")
		for i := range 15 {
			f.write(fmt.Sprintf("/dev/shm/bulk-%02d", i), "")
		}
		g := f.one(IDObjectsAtRisk, Warn, "19 of 20", "and 9 more")
		if len(g.AtRisk) != 19 {
			t.Errorf("AtRisk has %d objects; want all 19, not only the 10 the summary names", len(g.AtRisk))
		}
	})
	t.Run("empty", func(t *testing.T) {
		f := newFixture(t, "linux")
		f.mkdir("/dev/shm", 0o1777)
		f.one(IDObjectsAtRisk, OK, "no named objects in /dev/shm")
	})
	t.Run("no /dev/shm", func(t *testing.T) {
		newFixture(t, "linux").one(IDObjectsAtRisk, Skip, "cannot list /dev/shm")
	})
}

func TestObjectsAtRiskOpenBSD(t *testing.T) {
	setup := func(t *testing.T, daily string) *fixture {
		f := newFixture(t, "openbsd")
		f.copy("/etc/daily", "daily/"+daily)
		f.mkdir("/tmp", 0o1777)
		f.env.Now = time.Now().Add(10*day + time.Hour)
		f.write("/tmp/"+sampleShm[2:], "")
		f.write("/tmp/"+sampleSem[2:], "")
		f.write("/tmp/abc.shm", "")
		f.touch("/tmp/abc.shm", f.env.Now)
		f.write("/tmp/notes.txt", "")
		return f
	}
	g := setup(t, "openbsd-1.95").one(IDObjectsAtRisk, Warn, "2 of 3 named objects in /tmp", ".shm (last access 10d ago > 7d", ".sem")
	if strings.Contains(g.Summary, "abc.shm") || strings.Contains(g.Summary, "notes.txt") {
		t.Errorf("fresh object or other file listed: %s", g.Summary)
	}
	setup(t, "openbsd-1.101").one(IDObjectsAtRisk, OK, "3 named objects in /tmp, none at risk")
	newFixture(t, "freebsd").one(IDObjectsAtRisk, Skip, "kernel table")
}

func TestRlimit(t *testing.T) {
	f := newFixture(t, "linux")
	f.one(IDRlimitNofile, OK, "soft 1024, hard 4096")
	f.env.RlimitNofile = func() (uint64, uint64, error) { return 256, 4096, nil }
	if g := f.one(IDRlimitNofile, Warn, "soft 256"); !strings.Contains(g.Remedy, "ulimit -n") {
		t.Errorf("remedy: %s", g.Remedy)
	}
	f.env.RlimitNofile = func() (uint64, uint64, error) { return Unlimited, Unlimited, nil }
	f.one(IDRlimitNofile, OK, "soft unlimited, hard unlimited")
	f.env.RlimitNofile = func() (uint64, uint64, error) { return 0, 0, errUnsupportedTest }
	f.one(IDRlimitNofile, Skip, "not supported")
	f.env.RlimitNofile = nil
	f.one(IDRlimitNofile, Skip, "RLIMIT_NOFILE")
}

var errUnsupportedTest = fmt.Errorf("getrlimit is not supported on plan9: %w", errors.ErrUnsupported)

// TestHost runs every check on the machine running the tests.
func TestHost(t *testing.T) {
	env := Host()
	if env.GOOS == "" || env.Statfs == nil || env.RlimitNofile == nil {
		t.Fatalf("Host() = %+v", env)
	}
	fs, err := Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	checkFindings(t, fs)
	for _, f := range fs {
		t.Logf("%-17s %-4s %s", f.ID, f.Status, f.Summary)
	}
}

func TestRingFence(t *testing.T) {
	f := newFixture(t, "linux")
	f.one(IDRingFence, Skip, "no fence probe")

	f.env.FenceProbe = func() error { return nil }
	f.one(IDRingFence, OK, "plain store", "membarrier(2) is registered")

	f.env.FenceProbe = func() error { return fmt.Errorf("no heavy fence on linux/arm64: %w", errors.ErrUnsupported) }
	if g := f.one(IDRingFence, OK, "atomic store", "linux/arm64"); !strings.Contains(g.Meaning, "is the design") {
		t.Errorf("meaning: %s", g.Meaning)
	}

	f.env.FenceProbe = func() error { return errors.New("membarrier register private expedited: operation not permitted") }
	if g := f.one(IDRingFence, Warn, "atomic store", "operation not permitted"); !strings.Contains(g.Remedy, "seccomp") {
		t.Errorf("remedy: %s", g.Remedy)
	}

	f.env.FenceProbe = func() error { return fence.ErrLocked }
	if g := f.one(IDRingFence, OK, "fence=locked"); !strings.Contains(g.Remedy, "Remove fence=locked") {
		t.Errorf("remedy: %s", g.Remedy)
	}

	j := newFixture(t, "js")
	j.env.FenceProbe = func() error { t.Fatal("probe called on js"); return nil }
	j.one(IDRingFence, Skip, "js")
}
