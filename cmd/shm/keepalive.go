package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shmkit/shm"
)

var cmdKeepalive = &command{
	name:    "keepalive",
	args:    "[--every DUR] [--foreign] NAME...",
	summary: "keep named objects safe from cleaners until interrupted",
	help: `
Keep each named object alive until interrupted (SIGINT or SIGTERM): touch
it at once and every DUR (default 1h, far below every cleaner threshold
shm knows), and hold a shared flock on it, which systemd-tmpfiles
respects. Each refresh is logged to stdout with a timestamp.

Before each touch the name is checked: when a name no longer leads to the
object that was opened (it was removed, or replaced by another object),
keepalive says so naming the object and exits with status 1. On SIGINT or
SIGTERM it stops cleanly with status 0.`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		every := durationFlag(flags, "every", shm.DefaultKeepAlivePeriod, "time between refreshes (a `duration` such as 30s, 10m or 1h)")
		foreign := flags.Bool("foreign", false, foreignHelp)
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, -1, "NAME"); err != nil {
			return err
		}
		if *every <= 0 {
			return c.usageErr("--every must be positive, not %v", *every)
		}
		var objs []*shm.Object
		defer func() {
			for _, o := range objs {
				o.Close()
			}
		}()
		for _, name := range pos {
			o, err := shm.OpenReadOnly(name, openOpts(*foreign)...)
			if err != nil {
				return objErr("keepalive", name, err)
			}
			objs = append(objs, o)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var (
			mu       sync.Mutex
			firstErr error
			wg       sync.WaitGroup
		)
		for _, o := range objs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := o.KeepAlive(ctx, *every, shm.OnRefresh(func(t time.Time) {
					mu.Lock()
					defer mu.Unlock()
					fmt.Fprintf(e.stdout, "%s touched %s\n", t.Format(time.RFC3339), o.Name())
				}))
				if err == nil || errors.Is(err, context.Canceled) {
					return
				}
				if errors.Is(err, shm.ErrNameLost) {
					err = fmt.Errorf("keepalive %s: the name was lost: %w", o.Name(), err)
				} else {
					err = objErr("keepalive", o.Name(), err)
				}
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		fmt.Fprintf(e.stdout, "%s stopped: %d object(s) no longer kept alive\n", e.now().Format(time.RFC3339), len(objs))
		return nil
	},
}
