package doctor

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// A DailyRule is a find(1) command in OpenBSD's /etc/daily (or
// daily.local) that deletes regular files in /tmp by age.
type DailyRule struct {
	Line int // line where the find command starts (1-based)
	// Test is the time test: "atime", "mtime" or "ctime".
	Test string
	// Days is N of "-atime +N": files whose last access is more than N
	// whole days ago are deleted.
	Days int
	// SparesShm and SparesSem report whether the command leaves
	// /tmp/<sha256>.shm and .sem files alone (etc/daily 1.101's
	// "! -path './*.s[eh]m'"), through an exclusion, a prune, or a name
	// filter that does not select them.
	SparesShm, SparesSem bool
	// Command is the find command as written, continuations joined.
	Command string
}

// sampleShm and sampleSem stand for objects named as OpenBSD's libc names
// them: /tmp/<sha256 hex of the name>.shm (and .sem for semaphores).
const (
	sampleShm = "./e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.shm"
	sampleSem = "./e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.sem"
)

// A shToken is a word or an operator of a shell command line.
type shToken struct {
	text string
	op   bool // an unquoted operator: ; & && || | ( ) newline
	line int
}

// ParseDaily finds the /tmp clean-up rules in an OpenBSD daily(8) script.
// It reads the script as sh(1) would tokenise it (quotes, backslashes,
// line continuations, comments, redirections), follows "cd DIR" to
// resolve "find ." and keeps every find command that starts in /tmp,
// selects regular files by a -atime/-mtime/-ctime test and deletes them
// (-delete, or -exec/-execdir rm). Commented-out stanzas are ignored. The
// expression is read as the usual "prune-group -o filters -delete" chain;
// alternatives inside the filters are not evaluated.
func ParseDaily(data []byte) ([]DailyRule, error) {
	toks, err := shTokenize(string(data))
	if err != nil {
		return nil, err
	}
	var rules []DailyRule
	cwd := "/"
	for start := 0; start < len(toks); {
		end := start
		for end < len(toks) && !isCmdSep(toks[end]) {
			end++
		}
		cmd := toks[start:end]
		// Skip reserved words and an opening brace in front of the command.
		for len(cmd) > 0 && !cmd[0].op && isReserved(cmd[0].text) {
			cmd = cmd[1:]
		}
		if len(cmd) > 0 && !cmd[0].op {
			switch path.Base(cmd[0].text) {
			case "cd":
				if len(cmd) > 1 && !cmd[1].op {
					cwd = resolveDir(cwd, cmd[1].text)
				} else {
					cwd = "/root"
				}
			case "find":
				if r, ok := findRule(cmd, cwd); ok {
					rules = append(rules, r)
				}
			}
		}
		start = end + 1
	}
	return rules, nil
}

func isCmdSep(t shToken) bool {
	return t.op && (t.text == ";" || t.text == "&&" || t.text == "||" || t.text == "|" || t.text == "&" || t.text == "\n" || t.text == "(" || t.text == ")")
}

func isReserved(s string) bool {
	switch s {
	case "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "time":
		return true
	}
	return false
}

func resolveDir(cwd, dir string) string {
	if strings.HasPrefix(dir, "/") {
		return path.Clean(dir)
	}
	return path.Join(cwd, dir)
}

// findRule reads a find command (cmd[0] is "find").
func findRule(cmd []shToken, cwd string) (DailyRule, bool) {
	args := make([]string, 0, len(cmd)-1)
	var words []string
	for _, t := range cmd {
		words = append(words, shQuoteForDisplay(t.text))
	}
	for _, t := range cmd[1:] {
		args = append(args, t.text)
	}
	// Leading options, then starting points up to the expression.
	i := 0
	for i < len(args) && len(args[i]) > 1 && args[i][0] == '-' && strings.Trim(args[i][1:], "HLPXdhsxE") == "" {
		i++
	}
	inTmp := false
	for ; i < len(args); i++ {
		a := args[i]
		if a == "!" || a == "(" || (strings.HasPrefix(a, "-") && a != "-") {
			break
		}
		if resolveDir(cwd, a) == "/tmp" {
			inTmp = true
		}
	}
	if !inTmp {
		return DailyRule{}, false
	}
	expr := args[i:]
	r := DailyRule{Line: cmd[0].line, Command: strings.Join(words, " ")}

	// Split off a prune group: everything up to "-prune" and the "-o" after it.
	branch := expr
	var pruned []string
	for j, a := range expr {
		if a == "-prune" {
			pruned = expr[:j]
			branch = expr[j+1:]
			if len(branch) > 0 && (branch[0] == "-o" || branch[0] == "-or") {
				branch = branch[1:]
			}
			break
		}
	}
	deletes, files := false, true
	for j := 0; j < len(branch); j++ {
		a := branch[j]
		next := ""
		if j+1 < len(branch) {
			next = branch[j+1]
		}
		negated := j > 0 && (branch[j-1] == "!" || branch[j-1] == "-not")
		switch a {
		case "-delete":
			deletes = true
		case "-exec", "-execdir", "-ok", "-okdir":
			if b := path.Base(next); b == "rm" || b == "unlink" {
				deletes = true
			}
		case "-type":
			if negated {
				files = next != "f"
			} else {
				files = next == "f"
			}
		case "-atime", "-mtime", "-ctime":
			if r.Test == "" && !negated {
				if n, err := strconv.Atoi(strings.TrimPrefix(next, "+")); err == nil && n >= 0 && strings.HasPrefix(next, "+") {
					r.Test, r.Days = a[1:], n
				}
			}
		}
	}
	if !deletes || !files || r.Test == "" {
		return DailyRule{}, false
	}
	r.SparesShm = spares(pruned, branch, sampleShm)
	r.SparesSem = spares(pruned, branch, sampleSem)
	return r, true
}

// spares reports whether a file at p (relative to the start, "./x") is
// kept by the prune group or by the name filters of the deleting branch.
func spares(pruned, branch []string, p string) bool {
	for j := 0; j+1 < len(pruned); j++ {
		if nameTest(pruned[j], pruned[j+1], p) == 1 {
			return true
		}
	}
	for j := 0; j+1 < len(branch); j++ {
		m := nameTest(branch[j], branch[j+1], p)
		if m < 0 {
			continue
		}
		negated := j > 0 && (branch[j-1] == "!" || branch[j-1] == "-not")
		if negated == (m == 1) {
			return true
		}
	}
	return false
}

// nameTest evaluates a -name/-path style primary on p: 1 match, 0 no
// match, -1 not a name test.
func nameTest(primary, pattern, p string) int {
	var ok bool
	switch primary {
	case "-path", "-wholename":
		ok = matchGlob(pattern, p)
	case "-ipath", "-iwholename":
		ok = matchGlob(strings.ToLower(pattern), strings.ToLower(p))
	case "-name":
		ok = matchGlob(pattern, path.Base(p))
	case "-iname":
		ok = matchGlob(strings.ToLower(pattern), strings.ToLower(path.Base(p)))
	default:
		return -1
	}
	if ok {
		return 1
	}
	return 0
}

func shQuoteForDisplay(s string) string {
	if len(s) == 1 && strings.Contains("();!&|<>", s) {
		return `\` + s
	}
	if s == "" || strings.ContainsAny(s, " \t\n*?[]'\"\\;&|<>()!$") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// shTokenize splits a shell script into words and operators. It handles
// single and double quotes, backslash escapes and line continuations,
// '#' comments at the start of a word, and drops redirections
// ("2>/dev/null", "> file", "2>&1").
func shTokenize(s string) ([]shToken, error) {
	var (
		toks    []shToken
		cur     strings.Builder
		inWord  bool
		quoted  bool // the current word had quoting: it is never an operator
		line    = 1
		wordAt  = 1
		skipArg bool // the next word is a redirection target
	)
	flush := func() {
		if !inWord {
			return
		}
		w := cur.String()
		cur.Reset()
		inWord = false
		if skipArg {
			skipArg = false
			quoted = false
			return
		}
		if !quoted && isRedirection(w) {
			// "2>" or ">" alone takes the next word as its target.
			if strings.HasSuffix(w, ">") || strings.HasSuffix(w, "<") {
				skipArg = true
			}
			quoted = false
			return
		}
		toks = append(toks, shToken{text: w, line: wordAt})
		quoted = false
	}
	op := func(text string) {
		flush()
		toks = append(toks, shToken{text: text, op: true, line: line})
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\n' { // continuation
				i++
				line++
				continue
			}
			if !inWord {
				inWord, wordAt = true, line
			}
			quoted = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'':
			if !inWord {
				inWord, wordAt = true, line
			}
			quoted = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("daily: line %d: unterminated single quote", line)
			}
			lit := s[i+1 : i+1+j]
			line += strings.Count(lit, "\n")
			cur.WriteString(lit)
			i += j + 1
		case c == '"':
			if !inWord {
				inWord, wordAt = true, line
			}
			quoted = true
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("$`\"\\\n", s[j+1]) >= 0 {
					j++
					if s[j] == '\n' {
						line++
						continue
					}
				} else if s[j] == '\n' {
					line++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("daily: line %d: unterminated double quote", line)
			}
			i = j
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i-- // let the newline be handled
		case c == '\n':
			op("\n")
			line++
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		case c == ';' || c == '(' || c == ')':
			op(string(c))
		case c == '&' || c == '|':
			if i+1 < len(s) && s[i+1] == c {
				op(string([]byte{c, c}))
				i++
			} else if c == '&' && inWord && strings.HasSuffix(cur.String(), ">") {
				cur.WriteByte(c) // 2>&1
			} else {
				op(string(c))
			}
		default:
			if !inWord {
				inWord, wordAt = true, line
			}
			cur.WriteByte(c)
		}
	}
	flush()
	return toks, nil
}

// isRedirection reports whether an unquoted word is a redirection such as
// ">", "2>", ">/dev/null", "2>&1", ">>log" or "<in".
func isRedirection(w string) bool {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	return i < len(w) && (w[i] == '>' || w[i] == '<')
}
