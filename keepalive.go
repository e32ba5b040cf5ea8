package shm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// DefaultKeepAlivePeriod is the period [Object.KeepAlive] uses when given
// zero: an hour, far below every cleaner threshold shm knows of (OpenBSD's
// daily(8) deletes after 7 days, older releases after 3; systemd-tmpfiles
// rules for /tmp and /dev/shm are counted in days), yet rare enough to
// cost nothing.
const DefaultKeepAlivePeriod = time.Hour

// A KeepAliveOption changes what [Object.KeepAlive] does besides keeping
// the object alive.
type KeepAliveOption struct{ onRefresh func(time.Time) }

// OnRefresh makes [Object.KeepAlive] call fn, in its goroutine, after each
// successful refresh with the time it set: for logging (the shm keepalive
// command prints it).
func OnRefresh(fn func(time.Time)) KeepAliveOption { return KeepAliveOption{onRefresh: fn} }

// Touch sets the object's access and modification times to now through
// its descriptor (futimes). Using a mapping never updates these times, so
// a cleaner that deletes files not accessed for a week (OpenBSD's
// daily(8)) deletes a live object unless something touches it. On windows
// a section has no times and no cleaner: Touch does nothing, [Object.Check]
// reports nil while the object is open (a section keeps its name while a
// handle is open), and KeepAlive only waits.
func (o *Object) Touch() error {
	if err := o.control("futimes", touchFD); err != nil {
		return o.wrap("futimes", err)
	}
	return nil
}

// Check reports whether the object's name still leads to this object. It
// returns an error wrapping [ErrNameLost] when the name was removed or
// now leads to another object, nil when it leads here, and another error
// when it could not tell. Only named objects have a name to lose: Check on
// an anonymous object is an error.
func (o *Object) Check() error {
	if o.named == nil {
		return &fs.PathError{Op: "check", Path: o.describe(), Err: errors.New("anonymous objects have no name to lose")}
	}
	if o.h.closed() {
		return o.errClosed("check")
	}
	return o.checkName()
}

// KeepAlive keeps a named object safe from the host's cleaners until ctx
// ends or the object is closed. It touches the object at once and every
// period (zero means [DefaultKeepAlivePeriod]), and holds a shared BSD
// flock on it for the whole time (through a descriptor of its own, which
// it closes when it returns), which systemd-tmpfiles respects for
// files it would otherwise age out (while another process holds an
// exclusive flock, the shared one is tried again at each refresh). Before each touch it checks the name:
// as soon as the name is gone or leads elsewhere it returns an error
// wrapping [ErrNameLost], so that the program can recreate or report it.
//
// It returns nil when the object is closed and ctx.Err() when ctx ends.
// Run it in its own goroutine.
func (o *Object) KeepAlive(ctx context.Context, every time.Duration, opts ...KeepAliveOption) error {
	var refreshed []func(time.Time)
	for _, opt := range opts {
		if opt.onRefresh != nil {
			refreshed = append(refreshed, opt.onRefresh)
		}
	}
	if every < 0 {
		return fmt.Errorf("shm: KeepAlive: negative period %v", every)
	}
	if every == 0 {
		every = DefaultKeepAlivePeriod
	}
	if err := o.Check(); err != nil {
		return err
	}
	unlock, err := o.flockShared()
	if err != nil {
		return err
	}
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	done := o.doneChan()
	for {
		// An error once the object is closed (fs.ErrClosed, or a call the
		// close cut short) is the close's doing: KeepAlive ends with nil.
		if err := o.Check(); err != nil {
			if o.h.closed() {
				return nil
			}
			return err
		}
		if unlock == nil {
			// A conflicting lock held at the last try may be gone.
			if unlock, err = o.flockShared(); err != nil {
				if o.h.closed() {
					return nil
				}
				return err
			}
		}
		now := time.Now()
		if err := o.Touch(); err != nil {
			if o.h.closed() {
				return nil
			}
			return err
		}
		for _, fn := range refreshed {
			fn(now)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return nil
		case <-t.C:
		}
	}
}
