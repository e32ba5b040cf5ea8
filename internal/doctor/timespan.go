package doctor

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxSpan is what [ParseTimeSpan] returns for spans longer than a
// time.Duration can hold (about 292 years): for a cleaner's threshold
// that is "never".
const maxSpan = time.Duration(math.MaxInt64)

// spanUnits are systemd's time-span units (time-util.c, parse_sec),
// longest names first so that a prefix match picks the longest unit.
var spanUnits = []struct {
	name string
	d    time.Duration
}{
	{"seconds", time.Second},
	{"minutes", time.Minute},
	{"months", 2629800 * time.Second}, // 30.44 days
	{"second", time.Second},
	{"minute", time.Minute},
	{"month", 2629800 * time.Second},
	{"hours", time.Hour},
	{"weeks", 7 * 24 * time.Hour},
	{"years", 31557600 * time.Second}, // 365.25 days
	{"hour", time.Hour},
	{"days", 24 * time.Hour},
	{"week", 7 * 24 * time.Hour},
	{"year", 31557600 * time.Second},
	{"msec", time.Millisecond},
	{"usec", time.Microsecond},
	{"sec", time.Second},
	{"min", time.Minute},
	{"day", 24 * time.Hour},
	{"µs", time.Microsecond}, // U+00B5 MICRO SIGN
	{"μs", time.Microsecond}, // U+03BC GREEK SMALL LETTER MU
	{"ms", time.Millisecond},
	{"hr", time.Hour},
	{"us", time.Microsecond},
	{"s", time.Second},
	{"m", time.Minute},
	{"M", 2629800 * time.Second},
	{"h", time.Hour},
	{"d", 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"y", 31557600 * time.Second},
}

// errSpan is wrapped by every [ParseTimeSpan] error.
var errSpan = errors.New("invalid time span")

// ParseTimeSpan parses a systemd time span such as "10d", "1w", "30min",
// "1h 30min", "1d12h", "1.5d" or "90" (seconds when no unit is given), as
// the Age field of tmpfiles.d and the *Sec= settings of systemd
// configuration files are written. Components are summed. "infinity"
// returns infinite=true. Spans longer than a time.Duration can hold
// saturate at the largest Duration. Negative or malformed spans are
// errors.
func ParseTimeSpan(s string) (d time.Duration, infinite bool, err error) {
	t := strings.Trim(s, " \t\n\r") // systemd's WHITESPACE
	if t == "infinity" {
		return 0, true, nil
	}
	if t == "" {
		return 0, false, fmt.Errorf("%w: empty", errSpan)
	}
	var total float64 // in nanoseconds; float64 so that overflow saturates instead of wrapping
	p := t
	for {
		p = strings.TrimLeft(p, " \t\n\r")
		if p == "" {
			break
		}
		if p[0] == '-' {
			return 0, false, fmt.Errorf("%w: %q is negative", errSpan, s)
		}
		i := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		intPart := p[:i]
		fracPart := ""
		if i < len(p) && p[i] == '.' {
			j := i + 1
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			fracPart = p[i+1 : j]
			i = j
		}
		if intPart == "" && fracPart == "" {
			return 0, false, fmt.Errorf("%w: %q: expected a number at %q", errSpan, s, p)
		}
		var n float64
		for _, c := range intPart {
			n = n*10 + float64(c-'0')
		}
		scale := 0.1
		for _, c := range fracPart {
			n += float64(c-'0') * scale
			scale /= 10
		}
		p = strings.TrimLeft(p[i:], " \t\n\r")
		unit := time.Second
		for _, u := range spanUnits {
			if strings.HasPrefix(p, u.name) {
				unit = u.d
				p = p[len(u.name):]
				break
			}
		}
		if p != "" && !strings.ContainsAny(p[:1], " \t\n\r0123456789.") {
			return 0, false, fmt.Errorf("%w: %q: unknown unit at %q", errSpan, s, p)
		}
		total += n * float64(unit)
	}
	if total >= float64(maxSpan) {
		return maxSpan, false, nil
	}
	return time.Duration(total), false, nil
}

// formatSpan renders a threshold for people, exactly enough for
// [ParseTimeSpan] to read back whole seconds: "10d", "36h", "30min",
// "365d 1s", "never".
func formatSpan(d time.Duration) string {
	if d == maxSpan {
		return "never"
	}
	if d < time.Second {
		return d.String()
	}
	var parts []string
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.d
		}
	}
	return strings.Join(parts, " ")
}
