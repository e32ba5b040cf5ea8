package dialect

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io/fs"
	"strings"
)

// PortableMax is the most bytes a portable name may have after its
// leading slash: macOS allows 31 bytes in all (PSHMNAMLEN).
const PortableMax = darwinMaxName - 1

// A NameError reports a name that [ValidPortable] rejects, and which rule
// it breaks. It matches [fs.ErrInvalid] with [errors.Is].
type NameError struct {
	Name string // the name as given
	Rule string // the rule it breaks, in words
}

func (e *NameError) Error() string {
	return fmt.Sprintf("shm name %q is not portable: %s", e.Name, e.Rule)
}

// Unwrap returns [fs.ErrInvalid].
func (e *NameError) Unwrap() error { return fs.ErrInvalid }

// ValidPortable reports whether name means the same object on every
// supported OS: one leading '/', then 1 to 30 bytes of A-Z a-z 0-9 '.' '_'
// '-', and not "/." or "/..". Such a name is accepted by every dialect's
// [Dialect.Check]. The error is a [*NameError] saying which rule failed.
func ValidPortable(name string) error {
	bad := func(format string, args ...any) error {
		return &NameError{Name: name, Rule: fmt.Sprintf(format, args...)}
	}
	if name == "" {
		return bad("it is empty")
	}
	if name[0] != '/' {
		return bad("it must start with '/'")
	}
	rest := name[1:]
	if rest == "" {
		return bad("it needs at least one byte after the leading '/'")
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return bad("'/' is allowed only as the first byte, found another at byte %d", i+1)
	}
	if len(rest) > PortableMax {
		return bad("it has %d bytes after the leading '/', at most %d are portable (macOS allows 31 in all)", len(rest), PortableMax)
	}
	for i := 0; i < len(rest); i++ {
		if !portableByte(rest[i]) {
			return bad("byte %s at %d is not one of A-Z a-z 0-9 . _ -", quoteByte(rest[i]), i+1)
		}
	}
	if rest == "." || rest == ".." {
		return bad("%q names a directory, not an object", rest)
	}
	return nil
}

// quoteByte shows c as 'c' when it is printable ASCII, else as 0xNN.
func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("%#02x", c)
	}
	return fmt.Sprintf("%q", c)
}

func portableByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// randomPrefix starts every random name, so that they are recognisable in
// listings.
const randomPrefix = "/shm-"

// randomBytes is the entropy of a random name: 112 bits.
const randomBytes = 14

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// RandomName returns a fresh name made from crypto/rand: "/shm-" and 23
// characters of a-z 2-7 (112 random bits), 28 bytes in all. It passes
// [ValidPortable], so it fits every dialect, darwin's 31 bytes included.
// On openbsd it plays the part of shm_mkstemp's template.
func (d *Dialect) RandomName() string {
	var b [randomBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return randomPrefix + lowerBase32.EncodeToString(b[:])
}
