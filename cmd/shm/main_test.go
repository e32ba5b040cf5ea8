//go:build !wasip1

package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/dialect"
	"github.com/shmkit/shm/internal/testenv"
	"github.com/shmkit/shm/internal/wine"
)

// The scripts in testdata/script run the real command: testscript.Main
// makes this test binary answer to the names "shm" (the command) and
// "shm-child" (a Go program that takes an object with shm.Inherited).

// dialectEnv makes the shm command of a script follow another system's
// rules rooted in a directory ("openbsd:DIR"), through the test seam
// dialect.SetTestHost: a switch of this test binary, not of the command.
const dialectEnv = "SHM_TEST_DIALECT"

func TestMain(m *testing.M) {
	if os.Getenv(runAsShmEnv) == "1" {
		main() // exits
	}
	// Under -race every child that exits normally would sleep a second
	// first (the race runtime's default); the demo's children and the
	// processes TestDemoProcess and the scripts start inherit this.
	testenv.NoRaceExitSleep()
	if v := os.Getenv(dialectEnv); v != "" {
		d, err := dialect.ParseTestHost(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", dialectEnv, err)
			os.Exit(2)
		}
		dialect.SetTestHost(d)
	}
	if v := wine.Version(); v != "" {
		// testscript.Main's own temporary directory cannot be removed
		// under wine (see wine.SkipTempDir), which fails the run; the
		// scripts skip on windows anyway (TestScripts).
		fmt.Printf("wine %s: running without testscript.Main, whose temporary directory wine cannot remove; TestScripts skips on windows\n", v)
		os.Exit(leakCheck{m}.Run())
	}
	testscript.Main(leakCheck{m}, map[string]func(){
		"shm":       main,
		"shm-child": inheritedChild,
	})
}

// runID makes this run's object names unique: every script's names start
// with /shmtest-<runID>-.
var runID = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// leakCheck runs the tests and fails them if a named object whose name
// this run made is left in the object directory. The demo's objects are
// checked by name where each demo runs (demoLeft): other test binaries
// (the qemu step runs two architectures at once) run demos of their own
// in the same directory, so an entry that appears during this run need
// not be this run's.
type leakCheck struct{ m *testing.M }

func (l leakCheck) Run() int {
	code := l.m.Run()
	if left := entries("shmtest-" + runID); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests left named objects behind: %s\n", strings.Join(left, ", "))
		code = 1
	}
	return code
}

// demoCreated matches the demo's line that names its named object.
var demoCreated = regexp.MustCompile(`(?m)^  parent: created (/shm-demo-[0-9a-f]{10}) `)

// demoLeft checks the names of the objects a demo run says it created, in
// its output out: it returns an error naming any that still exists, or if
// the output names none.
func demoLeft(out string) error {
	found := demoCreated.FindAllStringSubmatch(out, -1)
	if len(found) == 0 {
		return errors.New("the demo's output names no object it created")
	}
	var left []string
	for _, f := range found {
		_, err := shm.Stat(f[1])
		switch {
		case err == nil:
			left = append(left, f[1])
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("checking that the demo removed %s: %w", f[1], err)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the demo left named objects behind: %s", strings.Join(left, ", "))
	}
	return nil
}

// objectDir is where named objects live on this host ("" where they are
// not files).
func objectDir() string {
	p, err := shm.NamePath("/x")
	if err != nil || p == "/x" {
		return ""
	}
	return filepath.Dir(p)
}

// entries lists the names in objectDir that contain prefix (sem.NAME too).
func entries(prefix string) []string {
	dir := objectDir()
	if dir == "" {
		return nil
	}
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// removeEntries removes the objects whose names contain s.
func removeEntries(s string) {
	for _, n := range entries(s) {
		os.Remove(filepath.Join(objectDir(), n))
	}
}

// inheritedChild is "shm-child NAME": it takes the object passed under
// NAME with shm.Inherited and prints its size and first bytes.
func inheritedChild() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: shm-child NAME")
		os.Exit(2)
	}
	o, err := shm.Inherited(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "shm-child:", err)
		os.Exit(1)
	}
	defer o.Close()
	size, err := o.Size()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shm-child:", err)
		os.Exit(1)
	}
	m, err := o.Map()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shm-child:", err)
		os.Exit(1)
	}
	defer m.Close()
	fmt.Printf("inherited %d bytes, zero-filled: %v\n", size, !slices.ContainsFunc(m.Bytes(), func(b byte) bool { return b != 0 }))
}

var scriptN atomic.Int64

func TestScripts(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" {
		t.Skipf("the scripts need POSIX shared memory, which %s lacks", runtime.GOOS)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// N is this script's object name: /shmtest-<run>-<script>;
			// scripts add suffixes for more.
			n := fmt.Sprintf("/shmtest-%s-%d", runID, scriptN.Add(1))
			env.Setenv("N", n)
			env.Setenv("B", n[1:]) // without the slash
			// A failed script leaves its objects behind; remove them,
			// and the leak check only sees what passing scripts left.
			env.Defer(func() {
				if env.T().(interface{ Failed() bool }).Failed() {
					removeEntries(n[1:])
				}
			})
			env.Setenv("SHMDIR", objectDir())
			env.Setenv("GOOS", runtime.GOOS)
			env.Setenv("GOARCH", runtime.GOARCH)
			env.Setenv("GORACE", os.Getenv("GORACE")) // set in TestMain
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "devshm":
				return objectDir() == "/dev/shm", nil
			case "tinyshm":
				return tinyShmAllowed(), nil
			case "emulated":
				// .ci/run sets SHM_TEST_EMULATOR when it runs the suite
				// of another architecture under qemu-user.
				return os.Getenv("SHM_TEST_EMULATOR") != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":     cmdStatus,
			"chown-shm":  cmdChownShm,
			"age-files":  cmdAgeFiles,
			"wait-atime": cmdWaitAtime,
			"wait-ring":  cmdWaitRing,
			"json":       cmdJSON,
			"json-keys":  cmdJSONKeys,
			"demo-left":  cmdDemoLeft,
		},
	})
}

// tinyShmAllowed reports whether unshare(1) can give a process a private
// mount namespace with a 1 MiB tmpfs over /dev/shm (root on Linux, where
// unshare is not forbidden).
var tinyShmAllowed = sync.OnceValue(func() bool {
	if runtime.GOOS != "linux" || objectDir() != "/dev/shm" {
		return false
	}
	return exec.Command("unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /dev/shm").Run() == nil
})

// demo-left fails if the demo run by the last exec left any named object
// it created (see demoLeft).
func cmdDemoLeft(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: demo-left")
	}
	ts.Check(demoLeft(ts.ReadFile("stdout")))
}

// status CODE PROG ARGS... runs PROG and checks its exit status, keeping
// its stdout and stderr for the commands that follow.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("status: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// chown-shm NAME UID gives the named object to another user.
func cmdChownShm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: chown-shm NAME UID")
	}
	uid, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("chown-shm: bad uid %q", args[1])
	}
	p, err := shm.NamePath(args[0])
	ts.Check(err)
	ts.Check(os.Chown(p, uid, uid))
}

// age-files DAYS FILE... sets the access and modification times of the
// files (globs allowed) to DAYS days ago.
func cmdAgeFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: age-files DAYS FILE...")
	}
	days, err := strconv.Atoi(args[0])
	ts.Check(err)
	t := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	n := 0
	for _, pat := range args[1:] {
		files, err := filepath.Glob(pat)
		ts.Check(err)
		for _, f := range files {
			ts.Check(os.Chtimes(f, t, t))
			n++
		}
	}
	if n == 0 {
		ts.Fatalf("age-files: no file matches %v", args[1:])
	}
}

// wait-atime FILE waits up to a minute until FILE was accessed in the last
// minute: the sign that shm keepalive touched it.
func cmdWaitAtime(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: wait-atime FILE")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := shm.Stat(strings.TrimPrefix(args[0], objectDir()))
		if err == nil && time.Since(info.Atime) < time.Minute {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("wait-atime: %s was not touched within a minute (last error %v)", args[0], err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait-ring NAME senders=N|receiver waits up to 20 s until the ring in
// the named object has N live senders, or a live receiver: the sign that
// a shm send or shm recv in the background has attached.
func cmdWaitRing(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: wait-ring NAME senders=N|receiver")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var r *ringJSON
		if info, err := shm.Stat(args[0]); err == nil {
			r = ringStat(args[0], info.Size)
		}
		if r != nil && r.Note == "" && (args[1] == "receiver" && r.Receiver || args[1] == fmt.Sprintf("senders=%d", r.Senders)) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("wait-ring: %s did not reach %s within 20s (last state %+v)", args[0], args[1], r)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jsonAt decodes stdout and returns the value at path: keys separated by
// '.', each optionally followed by [i] or [field=value] to pick an array
// element. "." is the whole value.
func jsonAt(ts *testscript.TestScript, path string) any {
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	if path == "." {
		return v
	}
	for _, seg := range splitPath(path) {
		key, sel, _ := strings.Cut(seg, "[")
		if key != "" {
			obj, ok := v.(map[string]any)
			if !ok {
				ts.Fatalf("json %s: %q is not in an object", path, key)
			}
			if v, ok = obj[key]; !ok {
				ts.Fatalf("json %s: no field %q", path, key)
			}
		}
		if sel == "" {
			continue
		}
		sel = strings.TrimSuffix(sel, "]")
		arr, ok := v.([]any)
		if !ok {
			ts.Fatalf("json %s: %q is not an array", path, key)
		}
		if i, err := strconv.Atoi(sel); err == nil {
			if i < 0 || i >= len(arr) {
				ts.Fatalf("json %s: index %d out of %d", path, i, len(arr))
			}
			v = arr[i]
			continue
		}
		field, want, _ := strings.Cut(sel, "=")
		found := false
		for _, el := range arr {
			if m, ok := el.(map[string]any); ok && fmt.Sprint(m[field]) == want {
				v, found = el, true
				break
			}
		}
		if !found {
			ts.Fatalf("json %s: no element with %s=%s", path, field, want)
		}
	}
	return v
}

// splitPath splits a JSON path at the dots outside brackets.
func splitPath(path string) []string {
	var segs []string
	depth, start := 0, 0
	for i, c := range path {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				segs = append(segs, path[start:i])
				start = i + 1
			}
		}
	}
	return append(segs, path[start:])
}

// json PATH REGEXP checks that the value at PATH, compactly encoded,
// matches REGEXP in full (with '!', that it does not).
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: json PATH REGEXP")
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	ts.Check(enc.Encode(jsonAt(ts, args[0])))
	b := strings.TrimSuffix(buf.String(), "\n")
	ok, err := regexp.MatchString("^(?:"+args[1]+")$", b)
	ts.Check(err)
	if ok == neg {
		ts.Fatalf("json %s = %s; want a match for %q (negated: %v)", args[0], b, args[1], neg)
	}
}

// json-keys PATH KEY... checks that the object at PATH has exactly these
// keys: the documented JSON fields.
func cmdJSONKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: json-keys PATH KEY...")
	}
	obj, ok := jsonAt(ts, args[0]).(map[string]any)
	if !ok {
		ts.Fatalf("json-keys %s: not an object", args[0])
	}
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	want := slices.Clone(args[1:])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		ts.Fatalf("json-keys %s: keys %v; want %v", args[0], got, want)
	}
}
