package dialect

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestValidPortable(t *testing.T) {
	for _, name := range []string{
		"/x", "/X", "/0", "/-", "/_", "/...", "/.x", "/a.b_c-D9",
		"/" + strings.Repeat("z", 30),
	} {
		if err := ValidPortable(name); err != nil {
			t.Errorf("ValidPortable(%q) = %v, want nil", name, err)
		}
	}
	for _, tc := range []struct{ name, rule string }{
		{"", "empty"},
		{"x", "must start with '/'"},
		{"./x", "must start with '/'"},
		{"/", "at least one byte"},
		{"//x", "another at byte 1"},
		{"/a/b", "another at byte 2"},
		{"/" + strings.Repeat("z", 31), "31 bytes after the leading '/', at most 30"},
		{"/a b", "' ' at 2"},
		{"/a\x00", "0x00 at 2"},
		{"/é", "0xc3 at 1"},
		{"/a:b", "':' at 2"},
		{"/.", `"." names a directory`},
		{"/..", `".." names a directory`},
	} {
		err := ValidPortable(tc.name)
		var ne *NameError
		if !errors.As(err, &ne) {
			t.Errorf("ValidPortable(%q) = %v, want a *NameError", tc.name, err)
			continue
		}
		if ne.Name != tc.name || !strings.Contains(ne.Rule, tc.rule) {
			t.Errorf("ValidPortable(%q): Name %q Rule %q, want the rule to mention %q", tc.name, ne.Name, ne.Rule, tc.rule)
		}
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("ValidPortable(%q) error does not match fs.ErrInvalid", tc.name)
		}
		if !strings.Contains(err.Error(), ne.Rule) {
			t.Errorf("ValidPortable(%q) message %q lacks the rule", tc.name, err)
		}
	}
}

func TestRandomName(t *testing.T) {
	re := regexp.MustCompile(`^/shm-[a-z2-7]{23}$`)
	seen := map[string]bool{}
	for _, goos := range allOS {
		d := mustForOS(t, goos)
		for range 200 {
			n := d.RandomName()
			if !re.MatchString(n) {
				t.Fatalf("%s RandomName() = %q, want %s", goos, n, re)
			}
			if len(n) > darwinMaxName {
				t.Fatalf("RandomName() = %q has %d bytes, darwin allows %d", n, len(n), darwinMaxName)
			}
			if err := ValidPortable(n); err != nil {
				t.Fatalf("RandomName() is not portable: %v", err)
			}
			for _, other := range allOS {
				if err := mustForOS(t, other).Check(n); err != nil {
					t.Fatalf("%s Check(RandomName() %q) = %v", other, n, err)
				}
			}
			if seen[n] {
				t.Fatalf("RandomName() repeated %q", n)
			}
			seen[n] = true
		}
	}
}

// TestPortableAcceptedEverywhere runs the table names that are portable
// through every dialect's Check.
func TestPortableAcceptedEverywhere(t *testing.T) {
	n := 0
	for _, cases := range nameCases {
		for _, tc := range cases {
			if ValidPortable(tc.name) != nil {
				continue
			}
			n++
			for _, goos := range allOS {
				if err := mustForOS(t, goos).Check(tc.name); err != nil {
					t.Errorf("portable %q rejected by %s: %v", tc.name, goos, err)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d portable names in the tables", n)
	}
}
