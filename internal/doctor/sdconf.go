package doctor

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A ConfAssignment is one "Key=Value" line of a systemd configuration
// file, with the section it appeared in and its line number (1-based; the
// last line of a continued line, as systemd reports it).
type ConfAssignment struct {
	Section string
	Key     string
	Value   string
	Line    int
}

// A ConfProblem is a line systemd warns about. A Fatal one (a broken
// section header, a line that is not UTF-8) makes systemd stop reading
// the file, and logind then reads no further drop-ins either.
type ConfProblem struct {
	Line  int
	Msg   string
	Fatal bool
}

func (p ConfProblem) String() string {
	if p.Fatal {
		return fmt.Sprintf("line %d: %s; systemd stops reading here", p.Line, p.Msg)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
}

// ParseSystemdConf parses a systemd configuration file in the format of
// logind.conf(5) and systemd.syntax(7), following conf-parser.c: lines
// whose first non-blank character is '#' or ';' are comments (also in
// the middle of a continued line); a line ending in an unescaped
// backslash continues on the next, the backslash becoming a space;
// "[Section]" starts a section; "Key=Value" assigns, with blanks around
// key and value removed. Lines systemd ignores with a warning (no '=',
// no key, an assignment before any section) are returned as problems and
// parsing goes on; a fatal problem (a section header without ']' or with
// quotes, backslashes or control characters, a line that is not UTF-8)
// ends parsing, as it ends systemd's.
func ParseSystemdConf(data []byte) ([]ConfAssignment, []ConfProblem) {
	var (
		out      []ConfAssignment
		problems []ConfProblem
		section  string
		cont     strings.Builder
		inCont   bool
	)
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// handle parses one logical line; it returns false to stop.
	handle := func(line string, at int) bool {
		l := strings.Trim(line, " \t\n\r")
		if l == "" {
			return true
		}
		if !utf8.ValidString(l) {
			problems = append(problems, ConfProblem{at, "not valid UTF-8", true})
			return false
		}
		if l[0] == '[' {
			if l[len(l)-1] != ']' {
				problems = append(problems, ConfProblem{at, fmt.Sprintf("invalid section header %q", l), true})
				return false
			}
			name := l[1 : len(l)-1]
			if strings.ContainsFunc(name, func(c rune) bool { return c < ' ' || c == 0x7f || strings.ContainsRune("\"'\\", c) }) {
				problems = append(problems, ConfProblem{at, fmt.Sprintf("bad characters in section header %q", l), true})
				return false
			}
			section = name
			return true
		}
		if section == "" {
			problems = append(problems, ConfProblem{Line: at, Msg: fmt.Sprintf("assignment %q outside of a section", l)})
			return true
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			problems = append(problems, ConfProblem{Line: at, Msg: fmt.Sprintf("missing '=' in %q", l)})
			return true
		}
		k = strings.Trim(k, " \t\n\r")
		if k == "" {
			problems = append(problems, ConfProblem{Line: at, Msg: fmt.Sprintf("missing key before '=' in %q", l)})
			return true
		}
		out = append(out, ConfAssignment{Section: section, Key: k, Value: strings.Trim(v, " \t\n\r"), Line: at})
		return true
	}
	n := 0
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		n++
		line = strings.TrimSuffix(line, "\r")
		if t := strings.TrimLeft(line, " \t\n\r"); t != "" && (t[0] == '#' || t[0] == ';') {
			continue
		}
		escaped := false
		for i := 0; i < len(line); i++ {
			if escaped {
				escaped = false
			} else if line[i] == '\\' {
				escaped = true
			}
		}
		if escaped {
			cont.WriteString(line[:len(line)-1])
			cont.WriteByte(' ')
			inCont = true
			continue
		}
		text := line
		if inCont {
			cont.WriteString(line)
			text, inCont = cont.String(), false
			cont.Reset()
		}
		if !handle(text, n) {
			return out, problems
		}
	}
	if inCont {
		handle(cont.String(), n)
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
