package doctor

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A TmpfilesLine is one line of a tmpfiles.d(5) file:
//
//	Type Path Mode User Group Age Argument
//
// Fields after Path are optional; "-" means the default.
type TmpfilesLine struct {
	Type      byte   // the action letter: 'd', 'D', 'q', 'x', ...
	Modifiers string // what followed the letter: "!", "-", "=", "~", "^", "+", "?"
	Path      string // unquoted, specifiers such as %b left in place
	Mode      string
	User      string
	Group     string
	Age       string // raw; see [ParseAge]
	Argument  string
}

// BootOnly reports the "!" modifier: the line is applied only with
// --boot, so the daily clean run (systemd-tmpfiles --clean) skips it.
func (l TmpfilesLine) BootOnly() bool { return strings.Contains(l.Modifiers, "!") }

// Ages reports whether the line's type takes part in age-based clean-up
// (tmpfiles.d(5): d, D, e, v, q, Q, C; x and X exclude paths from it).
func (l TmpfilesLine) Ages() bool { return strings.IndexByte("dDevqQC", l.Type) >= 0 }

// Excludes reports whether the line excludes paths from clean-up: x
// excludes the path and everything below it, X only the path itself.
func (l TmpfilesLine) Excludes() bool { return l.Type == 'x' || l.Type == 'X' }

// tmpfilesTypes are the action letters tmpfiles.d(5) knows; 'm' is the
// obsolete alias of 'z' still accepted.
const tmpfilesTypes = "fFwdDevqQpLcbCxXrRzZtThHaAm"

// tmpfilesModifiers are the characters that may follow the letter.
const tmpfilesModifiers = "!-=~^+?"

// ParseTmpfilesLine parses one line of a tmpfiles.d file. It returns
// ok=false for blank and comment lines. Words are separated by
// whitespace and may be quoted with "..." or '...' with backslash escapes,
// like systemd's extract_first_word; the Argument is the rest of the line.
func ParseTmpfilesLine(s string) (line TmpfilesLine, ok bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" || t[0] == '#' {
		return line, false, nil
	}
	var words [6]string
	rest := t
	for i := range words {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		words[i], rest, err = nextWord(rest)
		if err != nil {
			return line, false, err
		}
	}
	action, path := words[0], words[1]
	if action == "" {
		return line, false, fmt.Errorf("tmpfiles: %q: empty type", t)
	}
	if path == "" {
		return line, false, fmt.Errorf("tmpfiles: %q: missing path", t)
	}
	if strings.IndexByte(tmpfilesTypes, action[0]) < 0 {
		return line, false, fmt.Errorf("tmpfiles: unknown type %q", action[:1])
	}
	for _, c := range action[1:] {
		if !strings.ContainsRune(tmpfilesModifiers, c) {
			return line, false, fmt.Errorf("tmpfiles: unknown modifier %q in %q", c, action)
		}
	}
	if path[0] != '/' && path[0] != '%' {
		return line, false, fmt.Errorf("tmpfiles: path %q is not absolute", path)
	}
	line = TmpfilesLine{
		Type:      action[0],
		Modifiers: action[1:],
		Path:      path,
		Mode:      words[2],
		User:      words[3],
		Group:     words[4],
		Age:       words[5],
		Argument:  strings.TrimSpace(rest),
	}
	return line, true, nil
}

// nextWord takes one shell-like word off the front of s (which starts
// with a non-blank): quotes group, backslash escapes the next character.
func nextWord(s string) (word, rest string, err error) {
	var b strings.Builder
	var quote byte
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == ' ' || c == '\t'):
			return b.String(), s[i:], nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("tmpfiles: trailing backslash in %q", s)
			}
			i++
			b.WriteByte(s[i])
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		default:
			b.WriteByte(c)
		}
	}
	if quote != 0 {
		return "", "", fmt.Errorf("tmpfiles: unterminated quote in %q", s)
	}
	return b.String(), "", nil
}

// An Age is the parsed Age field of a tmpfiles.d line.
type Age struct {
	Set bool // false for "-" or an empty field: no age-based clean-up
	// Dur is the age: entries whose considered timestamps are all older
	// than now-Dur are removed. Zero means "unconditionally".
	Dur time.Duration
	// Infinite is set for "infinity": never removed.
	Infinite bool
	// SecondLevel is the "~" prefix: only entries one level below the
	// directory are aged, not those directly in it.
	SecondLevel bool
	// By lists which timestamps count ("a" atime, "b" birth, "c" ctime,
	// "m" mtime; upper case for directories), from a "abcm:" prefix;
	// empty means all of them.
	By string
}

var errAge = errors.New("invalid tmpfiles age")

// ParseAge parses the Age field of a tmpfiles.d line: "-" (none), or an
// optional "~", an optional timestamp selector such as "am:", and a time
// span for [ParseTimeSpan].
func ParseAge(s string) (Age, error) {
	var a Age
	if s == "" || s == "-" {
		return a, nil
	}
	p := s
	if strings.HasPrefix(p, "~") {
		a.SecondLevel = true
		p = p[1:]
	}
	if sel, span, ok := strings.Cut(p, ":"); ok {
		if sel == "" || strings.Trim(sel, "abcmABCM") != "" {
			return Age{}, fmt.Errorf("%w %q: bad timestamp selector %q", errAge, s, sel)
		}
		a.By, p = sel, span
	}
	d, inf, err := ParseTimeSpan(p)
	if err != nil {
		return Age{}, fmt.Errorf("%w %q: %w", errAge, s, err)
	}
	a.Set, a.Dur, a.Infinite = true, d, inf
	return a, nil
}

// String renders the age as tmpfiles.d would accept it.
func (a Age) String() string {
	if !a.Set {
		return "-"
	}
	s := formatSpan(a.Dur)
	if a.Infinite {
		s = "infinity"
	}
	if a.By != "" {
		s = a.By + ":" + s
	}
	if a.SecondLevel {
		s = "~" + s
	}
	return s
}
