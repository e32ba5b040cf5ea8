package shmdebug

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Settings
		err  string // part of the error; "" for none
	}{
		{"", Settings{}, ""},
		{"anon=tmpfile", Settings{Anon: "tmpfile"}, ""},
		{"anon=memfd,futex=poll,owner=fcntl", Settings{Anon: "memfd", Futex: "poll", Owner: "fcntl"}, ""},
		{" owner=flock , ,anon=random", Settings{Anon: "random", Owner: "flock"}, ""},
		{"anon=memfd,anon=tmpfile", Settings{Anon: "tmpfile"}, ""},
		{"fence=locked,owner=ofd", Settings{Fence: "locked", Owner: "ofd"}, ""},
		{"fence=plain", Settings{}, `fence="plain": want locked`},
		{"anon=bogus,futex=poll", Settings{Futex: "poll"}, `anon="bogus": want memfd or tmpfile or random`},
		{"colour=blue", Settings{}, `unknown key "colour"`},
		{"futex", Settings{}, `"futex" is not key=value`},
		{"owner=", Settings{}, `owner="": want ofd or fcntl or flock`},
	} {
		got, err := Parse(tt.in)
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "SHMDEBUG: ")):
			t.Errorf("Parse(%q) error %v, want one containing %q", tt.in, err, tt.err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "anon=tmpfile", "anon=memfd,futex=poll,owner=fcntl", "x=y,,=,==", "owner=flock,owner"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		// What was accepted formats and parses back to itself.
		back, err2 := Parse(s.String())
		if err2 != nil || back != s {
			t.Fatalf("Parse(%q) = %+v (%v); its String %q parses to %+v, %v", in, s, err, s.String(), back, err2)
		}
		if err == nil && s == (Settings{}) && strings.Trim(in, " ,") != "" && strings.ContainsRune(in, '=') {
			// Only empty items can leave the defaults without an error.
			for item := range strings.SplitSeq(in, ",") {
				if strings.TrimSpace(item) != "" {
					t.Fatalf("Parse(%q) accepted %q and set nothing", in, item)
				}
			}
		}
	})
}
