package shm_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
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
	if name := os.Getenv(helperEnv); name != "" {
		os.Unsetenv(helperEnv)
		fn := helpers[name]
		if fn == nil {
			fmt.Fprintf(os.Stderr, "helper %q is not registered\n", name)
			os.Exit(2)
		}
		os.Exit(fn(helperArgs()))
	}
	before := devShmEntries()
	code := m.Run()
	if extra := newEntries(before, devShmEntries()); len(extra) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests left entries in /dev/shm: %s\n", strings.Join(extra, ", "))
		code = 1
	}
	os.Exit(code)
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
