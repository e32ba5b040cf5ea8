package main

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"007", 7},
		{"1B", 1},
		{"64KiB", 64 << 10},
		{"64K", 64 << 10},
		{"64k", 64 << 10},
		{"1MiB", 1 << 20},
		{"1M", 1 << 20},
		{"3m", 3 << 20},
		{"1GiB", 1 << 30},
		{"2G", 2 << 30},
		{"2g", 2 << 30},
		{"1TiB", 1 << 40},
		{"1t", 1 << 40},
		{"1PiB", 1 << 50},
		{"8191P", 8191 << 50},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775807B", math.MaxInt64},
	} {
		got, err := parseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	for _, c := range []struct {
		in, why string
	}{
		{"", "empty"},
		{"-1", "negative"},
		{"-1M", "negative"},
		{"+1", "does not start with a number"},
		{"M", "does not start with a number"},
		{"abc", "does not start with a number"},
		{" 1M", "does not start with a number"},
		{"1 M", `unknown unit " M"`},
		{"1M ", `unknown unit "M "`},
		{"1.5M", "fractions"},
		{"1,5M", "fractions"},
		{"1MB", "ambiguous; write MiB (or M)"},
		{"1kB", "ambiguous; write KiB (or K)"},
		{"1gb", "ambiguous; write GiB (or G)"},
		{"1mib", `unknown unit "mib"`},
		{"1KIB", `unknown unit "KIB"`},
		{"1X", `unknown unit "X"`},
		{"1e3", `unknown unit "e3"`},
		{"0x10", `unknown unit "x10"`},
		{"1MiBB", `unknown unit "MiBB"`},
		{"9223372036854775808", "too large"},
		{"99999999999999999999999", "too large"},
		{"8192P", "too large"},
		{"8388608T", "too large"},
		{"9007199254740992K", "too large"},
	} {
		got, err := parseSize(c.in)
		if err == nil {
			t.Errorf("parseSize(%q) = %d, nil; want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), strconv.Quote(c.in)) {
			t.Errorf("parseSize(%q) error %q; want it to quote the input and say %q", c.in, err, c.why)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{64 << 10, "64.0 KiB"},
		{1<<20 - 1, "1.0 MiB"}, // not "1024.0 KiB"
		{1 << 20, "1.0 MiB"},
		{1<<30 + 1<<29, "1.5 GiB"},
		{1 << 40, "1.0 TiB"},
		{1 << 50, "1.0 PiB"},
		{math.MaxInt64, "8.0 EiB"},
		{-5, "-5 B"},
	} {
		if got := formatSize(c.n); got != c.want {
			t.Errorf("formatSize(%d) = %q; want %q", c.n, got, c.want)
		}
	}
}

func TestExactSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {1, "1"}, {1536, "1536"}, {4096, "4KiB"}, {1 << 20, "1MiB"},
		{3 << 30, "3GiB"}, {1 << 40, "1TiB"}, {5 << 50, "5PiB"}, {math.MaxInt64, "9223372036854775807"},
	} {
		if got := exactSize(c.n); got != c.want {
			t.Errorf("exactSize(%d) = %q; want %q", c.n, got, c.want)
		}
	}
}

func TestFormatAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "future"},
		{0, "0s"},
		{59 * time.Second, "59s"},
		{time.Minute, "1m"},
		{59*time.Minute + 59*time.Second, "59m"},
		{time.Hour, "1h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{9*24*time.Hour + 5*time.Hour, "9d"},
	} {
		if got := formatAge(c.d); got != c.want {
			t.Errorf("formatAge(%v) = %q; want %q", c.d, got, c.want)
		}
	}
}

// FuzzParseSize checks that parseSize never panics, never returns a
// negative size, reads back what exactSize and plain decimal write, and
// refuses exactly the products that overflow int64.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "4096", "64KiB", "1M", "1g", "1TiB", "8191P", "8192P", "-1", "1.5M", "1MB", "",
		"9223372036854775807", "9223372036854775808", "1 M", "k", "00000000000000000000001K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid size") {
				t.Fatalf("parseSize(%q) error %q does not say what is wrong", s, err)
			}
			// An error must be right: digits and a known unit fail
			// only by overflowing.
			i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
			if i < 0 {
				i = len(s)
			}
			if mult, ok := sizeUnits[s[i:]]; ok && i > 0 {
				v, perr := strconv.ParseUint(s[:i], 10, 64)
				if perr == nil && v <= math.MaxInt64/uint64(mult) {
					t.Fatalf("parseSize(%q) = %v, but %d×%d fits int64", s, err, v, mult)
				}
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d, negative", s, n)
		}
		for _, again := range []string{exactSize(n), strconv.FormatInt(n, 10)} {
			m, err := parseSize(again)
			if err != nil || m != n {
				t.Fatalf("parseSize(%q) = %d; its rendering %q parses as %d, %v", s, n, again, m, err)
			}
		}
		if fs := formatSize(n); fs == "" || strings.Contains(fs, "NaN") {
			t.Fatalf("formatSize(%d) = %q", n, fs)
		}
	})
}
