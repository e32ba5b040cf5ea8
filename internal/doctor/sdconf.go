package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// A ConfAssignment is one "Key=Value" line of a systemd configuration
// file, with the section it appeared in and its line number (1-based; the
// first line of a continued line).
type ConfAssignment struct {
	Section string
	Key     string
	Value   string
	Line    int
}

// A ConfProblem is a line systemd would ignore with a warning.
type ConfProblem struct {
	Line int
	Msg  string
}

func (p ConfProblem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// ParseSystemdConf parses a systemd configuration file in the format of
// logind.conf(5) and systemd.syntax(7): "[Section]" headers, "Key=Value"
// assignments with whitespace around key and value removed, comment lines
// starting with '#' or ';', and lines continued by a trailing backslash
// (the backslash becomes a space). Lines systemd would ignore (no '=',
// an assignment before any section, a broken header) are returned as
// problems; parsing always goes on.
func ParseSystemdConf(data []byte) ([]ConfAssignment, []ConfProblem) {
	var (
		out      []ConfAssignment
		problems []ConfProblem
		section  string
		cont     strings.Builder
		contLine int
		inCont   bool
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	handle := func(line string, at int) {
		l := strings.TrimSpace(line)
		switch {
		case l == "":
			return
		case l[0] == '#' || l[0] == ';':
			return
		case l[0] == '[':
			if !strings.HasSuffix(l, "]") || len(l) < 3 {
				problems = append(problems, ConfProblem{at, fmt.Sprintf("invalid section header %q", l)})
				section = "" // systemd ignores what follows a broken header until the next good one
				return
			}
			section = l[1 : len(l)-1]
			return
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			problems = append(problems, ConfProblem{at, fmt.Sprintf("missing '=' in %q", l)})
			return
		}
		if section == "" {
			problems = append(problems, ConfProblem{at, fmt.Sprintf("assignment %q outside of a section", l)})
			return
		}
		k = strings.TrimSpace(k)
		if k == "" {
			problems = append(problems, ConfProblem{at, fmt.Sprintf("empty key in %q", l)})
			return
		}
		out = append(out, ConfAssignment{Section: section, Key: k, Value: strings.TrimSpace(v), Line: at})
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if inCont {
			// Comment lines inside a continuation are skipped, as systemd does.
			if t := strings.TrimSpace(line); t != "" && (t[0] == '#' || t[0] == ';') {
				continue
			}
		}
		trimmed := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(trimmed, `\`) {
			if !inCont {
				// A comment line ending in a backslash is still just a comment.
				if t := strings.TrimSpace(trimmed); t != "" && (t[0] == '#' || t[0] == ';') {
					continue
				}
				inCont, contLine = true, n
				cont.Reset()
			}
			cont.WriteString(trimmed[:len(trimmed)-1])
			cont.WriteByte(' ')
			continue
		}
		if inCont {
			cont.WriteString(line)
			handle(cont.String(), contLine)
			inCont = false
			continue
		}
		handle(line, n)
	}
	if inCont {
		handle(cont.String(), contLine)
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, ConfProblem{n + 1, err.Error()})
	}
	return out, problems
}

// ParseBool parses a boolean the way systemd's parse_boolean does: "1",
// "yes", "y", "true", "t", "on" are true and "0", "no", "n", "false",
// "f", "off" false, in any case. Anything else is an error.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want yes/no, true/false, on/off, 1/0)", s)
}
