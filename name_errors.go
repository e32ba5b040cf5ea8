package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shmkit/shm/internal/dialect"
)

// nameRule states the name rule of os's shm_open, for error messages.
func nameRule(os string) string {
	switch os {
	case "linux":
		return "on linux a name is one component after its leading slashes: no other '/', not empty, \".\" or \"..\", at most 255 bytes"
	case "netbsd", "solaris":
		return "on " + os + " a name is one leading '/' and no other '/', at most 255 bytes"
	case "dragonfly":
		return "on dragonfly a name is one non-empty component after its leading slashes, with no other '/', at most 255 bytes"
	case "freebsd":
		return "on freebsd a name starts with '/' and is at most 1023 bytes"
	case "darwin":
		return "on darwin a name is 1 to 31 bytes"
	}
	return "see ValidName"
}

// nameProblem says what is wrong with name, which d refuses with errno
// err: shm's own rule (no NUL, no "." or ".." component) or the OS's.
func nameProblem(d *dialect.Dialect, name string, err error) error {
	const portable = "a portable name is '/' then 1 to 30 of [A-Za-z0-9._-]"
	switch {
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("the name holds a NUL byte, which would end it in C (%s): %w", portable, err)
	case hasDotComponent(name):
		return fmt.Errorf("the name holds \".\" or \"..\" between slashes, which could leave the object directory (%s): %w", portable, err)
	}
	return fmt.Errorf("%s (%s): %w", nameRule(d.OS), portable, err)
}

func hasDotComponent(name string) bool {
	for c := range strings.SplitSeq(name, "/") {
		if c == "." || c == ".." {
			return true
		}
	}
	return false
}

// explainName returns err, the error of an operation on name, saying
// which rule the name breaks when d refuses it. The result is a
// *fs.PathError whose Err wraps the errno of err (so errors.Is still
// works); a name holding control or non-printable characters is quoted
// in it.
func explainName(d *dialect.Dialect, name string, err error) error {
	if err == nil || d.Check(name) == nil {
		return err
	}
	op, errno := "shm_open", err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op, errno = pe.Op, pe.Err
	}
	return &fs.PathError{Op: op, Path: printableName(name), Err: nameProblem(d, name, errno)}
}

// printableName returns name, or name quoted as Go would (strconv.Quote)
// when it holds a control character, invalid UTF-8 or another
// non-printable rune, so that an error message or a listing cannot be
// forged by a name.
func printableName(name string) string {
	if !needsQuoting(name) {
		return name
	}
	return strconv.Quote(name)
}

// needsQuoting reports whether name holds a control character, invalid
// UTF-8 or a non-printable rune, or is empty.
func needsQuoting(name string) bool {
	if name == "" {
		return true
	}
	for i, r := range name {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(name[i:]); n == 1 {
				return true
			}
		}
		if !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// errControlName is the error for a name holding a control character,
// which Create refuses (Open and Unlink accept what the OS accepts, so
// that such objects made by other programs can be reached and removed).
var errControlName = errors.New("the name holds a control character, which would garble terminals and listings; Create refuses it (Open and Unlink accept it)")

// hasControl reports whether name holds a C0 or C1 control character or
// DEL.
func hasControl(name string) bool {
	for _, r := range name {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
