package dialect

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// testHost, set by a test binary, replaces the host's dialect for named
// objects.
var testHost atomic.Pointer[Dialect]

// TestHost returns the dialect a test binary set with [SetTestHost], or
// nil: programs always get nil and use their OS's rules.
func TestHost() *Dialect { return testHost.Load() }

// SetTestHost makes package shm put named objects by d's rules (nil
// restores the host's). Only test binaries call it: it runs another
// system's rules rooted in a test directory.
func SetTestHost(d *Dialect) { testHost.Store(d) }

// ParseTestHost parses "goos" or "goos:dir", the form tests pass to their
// children: goos's file dialect, rooted in dir when given.
func ParseTestHost(v string) (*Dialect, error) {
	goos, dir, _ := strings.Cut(v, ":")
	d, err := ForOS(goos)
	if err != nil {
		return nil, fmt.Errorf("dialect %q: %w", v, err)
	}
	if !d.File() {
		return nil, fmt.Errorf("dialect %q: %s objects are not files", v, goos)
	}
	if dir != "" {
		d = d.Rooted(dir)
	}
	return d, nil
}
