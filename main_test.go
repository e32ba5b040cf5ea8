package shm_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/shmdebug"
	"github.com/shmkit/shm/internal/testenv"
)

// The test binary doubles as the helper processes of the cross-process
// tests: helperCommand re-executes it with SHM_TEST_HELPER naming a
// function registered with registerHelper, and TestMain runs that function
// instead of the tests. Arguments follow "--" on the command line.

const helperEnv = "SHM_TEST_HELPER"

var (
	helpersMu sync.Mutex
	helpers   = map[string]func(args []string) int{}
	usedMu    sync.Mutex
	used      = map[string]bool{}
)

// registerHelper registers a child-process body under name; call it from
// init. The body's return value is the child's exit code.
func registerHelper(name string, fn func(args []string) int) {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	if _, dup := helpers[name]; dup {
		panic("duplicate helper " + name)
	}
	helpers[name] = fn
}

// helperCommand returns a command that runs the helper name in a new
// process of this test binary. On Linux the child gets SIGKILL if the test
// process dies, so no helper outlives a crashed test.
func helperCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	helpersMu.Lock()
	_, ok := helpers[name]
	helpersMu.Unlock()
	if !ok {
		t.Fatalf("no helper %q registered", name)
	}
	usedMu.Lock()
	used[name] = true
	usedMu.Unlock()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	setPdeathsig(cmd)
	return cmd
}

// helperArgs returns the arguments after "--".
func helperArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if s, _ := shmdebug.Get(); s.Owner == "flock" && os.Getenv(shm.TestOwnerDirEnv) == "" {
		// Flock owners' token files go to a directory of this run, which
		// its children share, not to /tmp/.shm-owners.
		dir, err := os.MkdirTemp("", "shm-owners-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Setenv(shm.TestOwnerDirEnv, dir)
		code := runMain(m)
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(runMain(m))
}

// runMain applies the test switches of the environment, then runs the
// helper it names or the tests, and returns the exit code.
func runMain(m *testing.M) int {
	shm.ApplyTestEnv()
	if name := os.Getenv(helperEnv); name != "" {
		os.Unsetenv(helperEnv)
		fn := helpers[name]
		if fn == nil {
			fmt.Fprintf(os.Stderr, "helper %q is not registered\n", name)
			return 2
		}
		return fn(helperArgs())
	}
	if os.Getenv(runEnv) == "" {
		var b [4]byte
		rand.Read(b[:])
		os.Setenv(runEnv, hex.EncodeToString(b[:]))
	}
	// Under -race every child that exits normally would sleep a second
	// first (the race runtime's default atexit_sleep_ms), and a test that
	// waits for its children would wait that long for each.
	testenv.NoRaceExitSleep()
	before := devShmEntries()
	code := m.Run()
	if extra := lasting(ours(newEntries(before, devShmEntries()))); len(extra) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests left entries in /dev/shm: %s\n", strings.Join(extra, ", "))
		code = 1
	}
	return code
}

// devShmEntries lists /dev/shm (nil where it does not exist).
func devShmEntries() []string {
	if runtime.GOOS != "linux" {
		return nil
	}
	ents, err := os.ReadDir("/dev/shm")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// runEnv names this test run; the processes of one run share it, and
// testName puts it in every name, so that the leak check tells our
// entries from those of test binaries of other packages running at the
// same time (which name theirs "shmtest-<their id>-...").
const runEnv = "SHM_TEST_RUN"

// randomEntry matches the files the anonymous strategies make (and must
// unlink at once) under every dialect: a random name "shm-" + 23 base32
// characters (also behind NetBSD's ".shmobj_" and illumos' ".SHMD"), or
// OpenBSD's "<sha256>.shm".
var randomEntry = regexp.MustCompile(`(^|\.shmobj_|\.SHMD)shm-[a-z2-7]{23}$|^[0-9a-f]{64}\.shm$`)

// ours keeps the entries this run may have made: names with this run's
// id, and random names of the anonymous strategies. Other packages' test
// binaries run at the same time and make entries of their own.
func ours(entries []string) []string {
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e, "shmtest-"+os.Getenv(runEnv)+"-") || randomEntry.MatchString(e) {
			out = append(out, e)
		}
	}
	return out
}

// lasting keeps the entries that are still there after a second. Another
// process's anonymous strategy (another package's tests, a parent of this
// re-executed test, a second run of the suite) makes a random name and
// unlinks it at once: seen in the window between the two listings, it is
// gone on a second look, while a leaked entry stays for good. Run 4 of 5
// on a loaded machine failed on such an entry, made by a concurrent run.
func lasting(entries []string) []string {
	for end := time.Now().Add(time.Second); len(entries) > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
		now := map[string]bool{}
		for _, e := range devShmEntries() {
			now[e] = true
		}
		var still []string
		for _, e := range entries {
			if now[e] {
				still = append(still, e)
			}
		}
		entries = still
	}
	return entries
}

func newEntries(before, after []string) []string {
	had := map[string]bool{}
	for _, n := range before {
		had[n] = true
	}
	var extra []string
	for _, n := range after {
		if !had[n] {
			extra = append(extra, n)
		}
	}
	return extra
}

// countFDs returns the number of open descriptors of this process, or -1
// where /proc/self/fd (or /dev/fd) cannot be read.
func countFDs() int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if ents, err := os.ReadDir(dir); err == nil {
			return len(ents) - 1 // the directory's own descriptor
		}
	}
	return -1
}

// settleWithin is how long settle waits for what ends asynchronously.
const settleWithin = 30 * time.Second

// settle polls done every millisecond until it holds, and fails t with
// state() if it still does not after settleWithin: descriptors close and
// goroutines end asynchronously (cleanups run after a collection,
// watches end as their threads return from the kernel), so a count is
// awaited, never read once.
func settle(t *testing.T, done func() bool, state func() string) {
	t.Helper()
	for deadline := time.Now().Add(settleWithin); !done(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v later: %s", settleWithin, state())
		}
	}
}
