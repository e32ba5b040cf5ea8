package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are the units parseSize accepts, all powers of 1024. A unit is
// one letter in either case (K, M, G, T, P) or the IEC form with that
// letter in upper case (KiB, MiB, GiB, TiB, PiB); B means bytes.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "k": 1 << 10, "KiB": 1 << 10,
	"M": 1 << 20, "m": 1 << 20, "MiB": 1 << 20,
	"G": 1 << 30, "g": 1 << 30, "GiB": 1 << 30,
	"T": 1 << 40, "t": 1 << 40, "TiB": 1 << 40,
	"P": 1 << 50, "p": 1 << 50, "PiB": 1 << 50,
}

// sizeHelp describes the accepted sizes in error messages and usage.
const sizeHelp = "a whole number of bytes, optionally followed by K, M, G, T or P (either case) or KiB, MiB, GiB, TiB or PiB, all powers of 1024"

// parseSize parses a size such as 4096, 64KiB, 1M or 2g. Units are powers
// of 1024 (see sizeUnits); decimal units such as MB, fractions, signs,
// spaces and sizes beyond the largest int64 are rejected with an error
// that says why.
func parseSize(s string) (int64, error) {
	bad := func(why string) error { return fmt.Errorf("invalid size %q: %s", s, why) }
	if s == "" {
		return 0, bad("empty; want " + sizeHelp)
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], s[i:]
	switch {
	case strings.HasPrefix(s, "-"):
		return 0, bad("sizes cannot be negative")
	case digits == "":
		return 0, bad("it does not start with a number; want " + sizeHelp)
	case strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ","):
		return 0, bad("fractions are not accepted; write a whole number of a smaller unit (1536K, not 1.5M)")
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		if len(unit) == 2 && strings.ContainsAny(unit[:1], "kKmMgGtTpP") && (unit[1] == 'B' || unit[1] == 'b') {
			return 0, bad(fmt.Sprintf("decimal-looking unit %q is ambiguous; write %ciB (or %c): units are powers of 1024",
				unit, strings.ToUpper(unit[:1])[0], strings.ToUpper(unit[:1])[0]))
		}
		return 0, bad(fmt.Sprintf("unknown unit %q; want %s", unit, sizeHelp))
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt64/mult {
		return 0, bad(fmt.Sprintf("too large: the largest size is %d bytes (8 EiB - 1)", int64(math.MaxInt64)))
	}
	if err != nil {
		return 0, bad(err.Error())
	}
	return n * mult, nil
}

// formatSize renders a size for people: "512 B", "64.0 KiB", "1.5 GiB".
// Negative sizes (never produced by the kernel) are shown as numbers.
func formatSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	const units = "KMGTPE"
	v := float64(n) / 1024
	u := 0
	// Move up when the value would print as 1024.0 or more.
	for v >= 1024-0.05 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[u])
}

// exactSize renders n in the largest unit that divides it exactly, in a
// form parseSize reads back: 4096 is "4KiB", 1536 is "1536".
func exactSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// formatAge renders a duration compactly for a table column: "42s",
// "17m", "5h", "9d". Durations under 48 hours are shown in hours, longer
// ones in days; negative ones (a time in the future) as "future".
func formatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "future"
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dd", d/(24*time.Hour))
}
