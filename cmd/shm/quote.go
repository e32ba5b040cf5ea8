package main

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// quoteName returns s for human output: as it is, or quoted as Go's %q
// quotes it when it holds a control character, invalid UTF-8 or another
// non-printable rune, so that a name with a newline or an escape sequence
// cannot forge a row or drive the terminal (as ls(1) quotes such names).
// JSON output keeps names exact.
func quoteName(s string) string {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return strconv.Quote(s)
			}
		}
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
