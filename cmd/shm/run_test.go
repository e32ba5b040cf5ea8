package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/doctor"
)

func TestParseInterleaved(t *testing.T) {
	for _, c := range []struct {
		args       []string
		json, grow bool
		pos        []string
	}{
		{[]string{"/a"}, false, false, []string{"/a"}},
		{[]string{"--json", "/a"}, true, false, []string{"/a"}},
		{[]string{"/a", "--json"}, true, false, []string{"/a"}},
		{[]string{"/a", "-json", "/b", "--grow"}, true, true, []string{"/a", "/b"}},
		{[]string{"/a", "--", "--json"}, false, false, []string{"/a", "--json"}},
		{[]string{"--", "-x"}, false, false, []string{"-x"}},
		{[]string{"-"}, false, false, []string{"-"}},
		{nil, false, false, nil},
	} {
		cmd := &command{name: "t"}
		fs := cmd.flags()
		j := fs.Bool("json", false, "")
		g := fs.Bool("grow", false, "")
		pos, err := cmd.parse(&env{}, fs, c.args, true)
		if err != nil || *j != c.json || *g != c.grow || fmt.Sprint(pos) != fmt.Sprint(c.pos) {
			t.Errorf("parse(%q) = %q, json %v, grow %v, %v; want %q, %v, %v", c.args, pos, *j, *g, err, c.pos, c.json, c.grow)
		}
	}
	// Without interleaving, flags end at the first argument (shm exec).
	cmd := &command{name: "t"}
	fs := cmd.flags()
	j := fs.Bool("json", false, "")
	pos, err := cmd.parse(&env{}, fs, []string{"prog", "--json"}, false)
	if err != nil || *j || fmt.Sprint(pos) != "[prog --json]" {
		t.Errorf("parse without interleaving: %q, json %v, %v", pos, *j, err)
	}
}

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{fmt.Errorf("wrapped: %w", flag.ErrHelp), 0, ""},
		{errors.New("cat /x: no such object"), 1, "shm: cat /x: no such object\n"},
		{fmt.Errorf("shm: listing is not supported on windows/amd64: %w", errors.ErrUnsupported), 1,
			"shm: listing is not supported on windows/amd64: unsupported operation\n"}, // the library's own prefix is not doubled
		{&exitError{code: 3, err: shm.ErrNameLost}, 3, "shm: name no longer leads to this object\n"},
		{&exitError{code: 7}, 7, ""},
		{&exitError{code: 127, err: errors.New("exec nope: not found")}, 127, "shm: exec nope: not found\n"},
		{&usageError{cmd: "stat", usage: "shm stat NAME", msg: "stat: missing NAME"}, 2,
			"shm: stat: missing NAME\nusage: shm stat NAME\nRun 'shm stat --help' for details.\n"},
	} {
		var buf bytes.Buffer
		if code := exitStatus(c.err, &buf); code != c.code || buf.String() != c.stderr {
			t.Errorf("exitStatus(%v) = %d, %q; want %d, %q", c.err, code, buf.String(), c.code, c.stderr)
		}
	}
}

// runIn runs the command in this process.
func runIn(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

func TestRunHelpEverywhere(t *testing.T) {
	for _, c := range commands {
		for _, h := range []string{"-h", "--help"} {
			out, errOut, err := runIn(c.name, h)
			if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out, "Usage: "+c.usageLine()+"\n") || errOut != "" {
				t.Errorf("shm %s %s: err %v, stdout %q, stderr %q; want the usage on stdout and flag.ErrHelp", c.name, h, err, out, errOut)
			}
		}
	}
	if _, errOut, err := runIn(); exitStatus(err, &bytes.Buffer{}) != 2 || !strings.HasPrefix(errOut, "Usage: shm COMMAND") {
		t.Errorf("shm without arguments: %v, %q; want the usage on stderr and status 2", err, errOut)
	}
}

func TestPrintReport(t *testing.T) {
	rep := doctor.Report{OS: "linux", Findings: []doctor.Finding{
		{ID: "a.b", Status: doctor.StatusOK, Summary: "fine", Meaning: "all is well", Remedy: "none"},
		{ID: "longer.id", Status: doctor.StatusWarn, Summary: "hmm", Meaning: "it may go", Remedy: "do this"},
		{ID: "c", Status: doctor.StatusSkip, Summary: "not here", Meaning: "n/a"},
	}}
	var buf bytes.Buffer
	printReport(&buf, rep)
	want := `STATUS  ID         SUMMARY
ok      a.b        fine
                   meaning: all is well
warn    longer.id  hmm
                   meaning: it may go
                   remedy:  do this
skip    c          not here
                   meaning: n/a

linux: worst status warn (1 ok, 1 warn, 0 fail, 1 skipped)
`
	if buf.String() != want {
		t.Errorf("printReport:\n%s\nwant:\n%s", buf.String(), want)
	}
}
