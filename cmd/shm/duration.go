package main

import (
	"errors"
	"flag"
	"time"
)

// durationValue is a flag.Value for a duration whose error says what a
// duration looks like (flag.Duration only says "parse error").
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration: want a number with a unit, such as 500ms, 30s, 10m or 1h")
	}
	*d = durationValue(v)
	return nil
}

// durationFlag defines a duration flag on flags, as flags.Duration does.
func durationFlag(flags *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	flags.Var((*durationValue)(p), name, usage)
	return p
}
