package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/shmkit/shm"
)

// The demo's layout of a one-page object: the parent writes its message
// at offset 0, the child answers at replyOff.
const (
	demoSize = 4096
	replyOff = 512
	demoEnv  = "demo" // the name the first step passes the object under
	// childTimeout bounds every child, so that the demo never hangs.
	childTimeout = 20 * time.Second
)

var cmdDemo = &command{
	name:    "demo",
	summary: "show shm working end to end on this host",
	help: `
Run shm's main jobs end to end on this host in a second or two, printing
and verifying every step, with other processes (this program re-executed):

  1. an anonymous object passed to a child across exec (shm.Pass,
     shm.Inherited); the child checks the parent's bytes and answers;
  2. the same over a Unix socket (shm.Send, shm.Receive): a socket pair
     on Unix systems; on windows a socket the child dials, skipped
     where the system has no AF_UNIX (wine);
  3. a named object with a portable random name, opened again by name from
     a child, showing where it lives on this OS (shm.NamePath); the name
     is removed at the end;
  4. a semaphore hand-off between processes, a counter that both
     increment at once under a shm.Mutex, and the mutex taken over with
     shm.ErrOwnerDead after its holder died;
  5. keep-alive: Touch and Check on the named object, and Check reporting
     the lost name once it is removed (on windows, where a name cannot be
     removed while a handle is open, Check stays nil after Unlink and the
     name goes with the last handle);
  6. a child streams messages to the parent over a shm.Ring far smaller
     than the stream; the parent checks their count and order.

The exit status is 1 if any step fails or any check does not match.
Nothing is left behind.`,
	run: runDemo,
}

// demo carries the state of one demo run.
type demo struct {
	ctx   context.Context
	e     *env
	exe   string
	token string
	// The named object of steps 3 and 5; cleanup closes it and removes
	// the name if it is still there.
	name  string
	named *shm.Object
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, "  parent: "+format+"\n", args...)
}

func runDemo(ctx context.Context, c *command, e *env, args []string) error {
	flags := c.flags()
	pos, err := c.parse(e, flags, args, false)
	if err != nil {
		return err
	}
	if err := c.needArgs(pos, 0, 0, ""); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: cannot find this program to run its children: %w", err)
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	d := &demo{ctx: ctx, e: e, exe: exe, token: hex.EncodeToString(tok[:])}
	start := time.Now()
	fmt.Fprintf(e.stdout, "shm demo on %s/%s, pid %d, token %s\n", runtime.GOOS, runtime.GOARCH, os.Getpid(), d.token)

	steps := []struct {
		title string
		run   func() (skipped string, err error)
	}{
		{"anonymous object across exec", d.stepExec},
		{"anonymous object over a Unix socket", d.stepSocket},
		{"named object opened by name from another process", d.stepNamed},
		{"semaphore hand-off and mutex between processes", d.stepLocks},
		{"keep-alive: Touch and Check, then the name is lost", d.stepKeepAlive},
		{"a child streams messages to the parent over a shm.Ring", d.stepRing},
	}
	var skipped []string
	defer d.cleanup()
	for i, s := range steps {
		fmt.Fprintf(e.stdout, "[%d/%d] %s\n", i+1, len(steps), s.title)
		why, err := s.run()
		if err != nil {
			fmt.Fprintf(e.stdout, "  FAILED: %v\n", err)
			return fmt.Errorf("demo step %d (%s): %w", i+1, s.title, err)
		}
		if why != "" {
			fmt.Fprintf(e.stdout, "  skipped: %s\n", why)
			skipped = append(skipped, fmt.Sprintf("step %d: %s", i+1, why))
		}
	}
	verified := len(steps) - len(skipped)
	fmt.Fprintf(e.stdout, "demo passed: %d of %d steps verified in %v", verified, len(steps), time.Since(start).Round(time.Millisecond))
	if len(skipped) > 0 {
		fmt.Fprintf(e.stdout, "; skipped %s", strings.Join(skipped, "; "))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func (d *demo) cleanup() {
	if d.named != nil {
		d.named.Close()
	}
	if d.name != "" {
		if err := shm.Unlink(d.name); err == nil {
			d.say("removed %s", d.name)
		}
	}
}

// child returns a command running this program's hidden __demo-child
// subcommand.
func (d *demo) child(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.exe, append([]string{demoChildName}, args...)...)
	cmd.Stdout, cmd.Stderr = d.e.stdout, d.e.stderr
	dieWithParent(cmd)
	return cmd
}

// runChild runs cmd to its end and turns a failure into an error.
func runChild(cmd *exec.Cmd) error {
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("child %s: %w", strings.Join(cmd.Args[1:], " "), err)
	}
	return nil
}

// message and reply are what parent and child write.
func (d *demo) message() []byte { return []byte("parent:" + d.token) }
func (d *demo) reply() []byte   { return []byte("child:" + d.token) }

// fill maps o and writes the parent's message; it returns the mapping.
func (d *demo) fill(o *shm.Object) (*shm.Mapping, error) {
	m, err := o.Map()
	if err != nil {
		return nil, err
	}
	if _, err := m.WriteAt(d.message(), 0); err != nil {
		m.Close()
		return nil, err
	}
	d.say("wrote %q at offset 0", d.message())
	return m, nil
}

// verifyReply checks the child's answer in m.
func (d *demo) verifyReply(m *shm.Mapping) error {
	got := make([]byte, len(d.reply()))
	if _, err := m.ReadAt(got, replyOff); err != nil {
		return err
	}
	if !bytes.Equal(got, d.reply()) {
		return fmt.Errorf("mismatch: read %q at offset %d, want %q", got, replyOff, d.reply())
	}
	d.say("read %q at offset %d: matches", got, replyOff)
	return nil
}

func (d *demo) stepExec() (string, error) {
	o, err := shm.CreateAnon(demoSize)
	if err != nil {
		return "", err
	}
	defer o.Close()
	d.say("created an anonymous object of %s (strategy %s)", formatSize(demoSize), o.Strategy())
	m, err := d.fill(o)
	if err != nil {
		return "", err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(d.ctx, childTimeout)
	defer cancel()
	cmd := d.child(ctx, "exec", d.token)
	if err := shm.Pass(cmd, demoEnv, o); err != nil {
		return "", err
	}
	d.say("starting a child with the object passed as %s%s", shm.EnvPrefix, demoEnv)
	if err := runChild(cmd); err != nil {
		return "", err
	}
	return "", d.verifyReply(m)
}

func (d *demo) stepSocket() (string, error) {
	o, err := shm.CreateAnon(demoSize)
	if err != nil {
		return "", err
	}
	defer o.Close()
	d.say("created an anonymous object of %s", formatSize(demoSize))
	m, err := d.fill(o)
	if err != nil {
		return "", err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(d.ctx, childTimeout)
	defer cancel()
	conn, cmd, skip, err := d.socketChild(ctx)
	if skip != "" || err != nil {
		return skip, err
	}
	defer conn.Close()
	if err := shm.Send(conn, o); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", err
	}
	d.say("sent the object over the socket (%s)", sendHow)
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("child socket: %w", err)
	}
	return "", d.verifyReply(m)
}

func (d *demo) stepNamed() (string, error) {
	var b [5]byte
	_, _ = rand.Read(b[:])
	name := "/shm-demo-" + hex.EncodeToString(b[:])
	if err := shm.ValidPortableName(name); err != nil {
		return "", err
	}
	o, err := shm.Create(name, demoSize, 0o600)
	if err != nil {
		return "", err
	}
	d.name, d.named = name, o
	where, err := shm.NamePath(name)
	if err != nil {
		return "", err
	}
	d.say("created %s (a portable name) of %s; on %s it lives at %s", name, formatSize(demoSize), runtime.GOOS, where)
	m, err := d.fill(o)
	if err != nil {
		return "", err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(d.ctx, childTimeout)
	defer cancel()
	if err := runChild(d.child(ctx, "named", name, d.token)); err != nil {
		return "", err
	}
	return "", d.verifyReply(m)
}

func (d *demo) stepKeepAlive() (string, error) {
	o, name := d.named, d.name
	if o == nil {
		return "", errors.New("no named object from step 3")
	}
	before := time.Now().Add(-time.Second)
	if err := o.Touch(); err != nil {
		return "", err
	}
	info, err := shm.Stat(name)
	switch {
	case err != nil:
		return "", err
	case info.Atime.IsZero():
		d.say("touched %s (this OS reports no access time to check)", name)
	case info.Atime.Before(before):
		return "", fmt.Errorf("after Touch the access time of %s is %v, before the touch", name, info.Atime)
	default:
		d.say("touched %s: access time is now %s", name, info.Atime.Format(time.RFC3339))
	}
	if err := o.Check(); err != nil {
		return "", fmt.Errorf("checking the name before removing it: %w", err)
	}
	d.say("Check: the name %s leads to this object", name)
	if runtime.GOOS == "windows" {
		return "", d.keepAliveWindows(o, name)
	}
	if err := shm.Unlink(name); err != nil {
		return "", err
	}
	d.name = ""
	d.say("removed %s while still holding the object", name)
	err = o.Check()
	if !errors.Is(err, shm.ErrNameLost) {
		return "", fmt.Errorf("after removing the name, Check returned %v; want an error wrapping shm.ErrNameLost", err)
	}
	d.say("Check: %v", err)
	return "", nil
}

// keepAliveWindows is the end of the keep-alive step on windows, where a
// section's name cannot be removed: it lives while any handle to the
// section is open, and Unlink removes nothing (see shm.Unlink). The step
// shows that instead: Check stays nil after Unlink, and the name goes
// with the last handle.
func (d *demo) keepAliveWindows(o *shm.Object, name string) error {
	if err := shm.Unlink(name); err != nil {
		return err
	}
	d.say("Unlink(%s): Windows cannot remove a name; it lives while a handle to the section is open", name)
	if err := o.Check(); err != nil {
		return fmt.Errorf("after Unlink, Check returned %v; want nil: the name cannot be lost while this process holds the section", err)
	}
	d.say("Check: nil; while this process holds the section, its name cannot be lost or taken")
	o.Close()
	d.named = nil
	if o2, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			o2.Close()
		}
		return fmt.Errorf("after the last handle closed, Open(%s) returned %v; want an error wrapping fs.ErrNotExist", name, err)
	}
	d.name = ""
	d.say("closed the last handle: Open(%s) finds no such name", name)
	return nil
}

// demoChildName is the hidden subcommand that runs the demo's children.
const demoChildName = "__demo-child"

var cmdDemoChild = &command{
	name:   demoChildName,
	hidden: true,
	help:   "The child side of shm demo; not for use by hand.",
	args:   "MODE [NAME] TOKEN",
	run: func(_ context.Context, c *command, e *env, args []string) error {
		pos, err := c.parse(e, c.flags(), args, false)
		if err != nil {
			return err
		}
		if len(pos) < 2 {
			return fmt.Errorf("%s: want MODE [NAME] TOKEN", demoChildName)
		}
		return demoChild(e, pos[0], pos[1:])
	},
}

// demoChild is the child side of the demo's steps.
func demoChild(e *env, mode string, args []string) (err error) {
	say := func(format string, a ...any) {
		fmt.Fprintf(e.stdout, "  child %d: "+format+"\n", append([]any{os.Getpid()}, a...)...)
	}
	token := args[len(args)-1]
	var o *shm.Object
	switch mode {
	case "exec":
		o, err = shm.Inherited(demoEnv)
		if err == nil {
			say("found the object with shm.Inherited(%q)", demoEnv)
		}
	case "socket":
		uc, cerr := childConn(args[:len(args)-1])
		if cerr != nil {
			return cerr
		}
		defer uc.Close()
		var objs []*shm.Object
		objs, err = shm.Receive(uc)
		if err == nil {
			if len(objs) != 1 {
				return fmt.Errorf("received %d objects, want 1", len(objs))
			}
			o = objs[0]
			say("received the object with shm.Receive")
		}
	case "locks":
		return demoLockChild(e, token, say)
	case "ring":
		return demoRingChild(token, say)
	case "named":
		if len(args) != 2 {
			return fmt.Errorf("__demo-child named: want NAME TOKEN")
		}
		o, err = shm.Open(args[0])
		if err == nil {
			say("opened %s by name", args[0])
		}
	default:
		return fmt.Errorf("__demo-child: unknown mode %q", mode)
	}
	if err != nil {
		return err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return err
	}
	defer m.Close()
	want := []byte("parent:" + token)
	got := make([]byte, len(want))
	if _, err := m.ReadAt(got, 0); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("mismatch: read %q at offset 0 of a %d-byte mapping, want %q", got, m.Len(), want)
	}
	say("read %q at offset 0: matches", got)
	reply := []byte("child:" + token)
	if _, err := m.WriteAt(reply, replyOff); err != nil {
		return err
	}
	say("wrote %q at offset %d", reply, replyOff)
	return nil
}
