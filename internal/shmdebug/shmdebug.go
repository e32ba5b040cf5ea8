// Package shmdebug reads SHMDEBUG, the one environment variable that
// changes how package shm works, in the style of GODEBUG: a comma-separated
// list of key=value settings, read once, at the first use.
//
//	anon=memfd|tmpfile|random  the route of CreateAnon on Linux (else an error
//	                           naming the OS at CreateAnon)
//	fence=locked               the gates of rings and connections let go with
//	                           a locked store, not a plain one and the kernel's
//	                           membarrier (Linux on amd64, internal/fence)
//	futex=poll                 waits poll instead of sleeping in the kernel
//	owner=ofd|fcntl|flock      the liveness lock of mutex owners
//
// They are for operators whose kernel misbehaves (a seccomp profile that
// breaks memfd or membarrier, a futex that does not wake across
// processes, byte-range locks that a filesystem drops) and for tests, which set SHMDEBUG in the
// environment of the children they start. A setting with an unknown key or
// value is ignored, and [Get] returns an error naming it, which `shm doctor`
// reports (check shmdebug). Nothing here panics.
package shmdebug

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// Var is the name of the environment variable.
const Var = "SHMDEBUG"

// Settings are the parsed settings; the empty string means the default.
type Settings struct {
	Anon  string // "memfd", "tmpfile" or "random"
	Fence string // "locked"
	Futex string // "poll"
	Owner string // "ofd", "fcntl" or "flock"
}

// A key is one setting: its name, the values it takes and its field.
type key struct {
	name   string
	values []string
	field  func(*Settings) *string
}

// keys lists the settings in the order of String.
var keys = []key{
	{"anon", []string{"memfd", "tmpfile", "random"}, func(s *Settings) *string { return &s.Anon }},
	{"fence", []string{"locked"}, func(s *Settings) *string { return &s.Fence }},
	{"futex", []string{"poll"}, func(s *Settings) *string { return &s.Futex }},
	{"owner", []string{"ofd", "fcntl", "flock"}, func(s *Settings) *string { return &s.Owner }},
}

// Parse parses a SHMDEBUG value. Valid settings are returned even when
// others are not; the error names every one ignored. A key given twice
// takes its last value, as in GODEBUG.
func Parse(v string) (Settings, error) {
	var s Settings
	var errs []error
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not key=value", item))
			continue
		}
		i := slices.IndexFunc(keys, func(k key) bool { return k.name == name })
		if i < 0 {
			errs = append(errs, fmt.Errorf("unknown key %q (known: anon, fence, futex, owner)", name))
			continue
		}
		k := keys[i]
		if !slices.Contains(k.values, val) {
			errs = append(errs, fmt.Errorf("%s=%q: want %s", name, val, strings.Join(k.values, " or ")))
			continue
		}
		*k.field(&s) = val
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return s, errors.New(Var + ": ignored " + strings.Join(msgs, "; "))
	}
	return s, nil
}

// String formats s as a SHMDEBUG value: "" for the defaults.
func (s Settings) String() string {
	var parts []string
	for _, k := range keys {
		if v := *k.field(&s); v != "" {
			parts = append(parts, k.name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

var current = sync.OnceValues(func() (Settings, error) { return Parse(os.Getenv(Var)) })

// Get returns the settings of this process, read from the environment
// at the first call, and the error of the settings that were ignored.
func Get() (Settings, error) { return current() }

// Value returns the raw SHMDEBUG value of this process's environment.
func Value() string { return os.Getenv(Var) }
