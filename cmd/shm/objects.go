package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"

	"github.com/shmkit/shm"
)

// objErr names the operation and the object in an error and says in
// words what the common causes mean; the library's error follows.
func objErr(op, name string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, fs.ErrExist):
		hint = "already exists"
	case errors.Is(err, fs.ErrNotExist):
		hint = "no such object"
	case errors.Is(err, fs.ErrPermission):
		hint = "permission denied"
		if info, serr := shm.Stat(name); serr == nil && info.UID >= 0 && info.UID != os.Geteuid() {
			hint = fmt.Sprintf("permission denied: it belongs to %s (uid %d), not to you; pass --foreign to accept it",
				owners{}.display(info.UID), info.UID)
		}
	}
	name = quoteName(name)
	if hint == "" {
		// An error that already says "op name:" is not prefixed again.
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == op && pe.Path == name {
			return err
		}
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	return fmt.Errorf("%s %s: %s (%w)", op, name, hint, err)
}

// openOpts returns the options for --foreign.
func openOpts(foreign bool) []shm.OpenOption {
	if foreign {
		return []shm.OpenOption{shm.AllowForeignOwner()}
	}
	return nil
}

const foreignHelp = "accept an object owned by another user (refused by default, so that nobody can plant an object for you)"

// window is the most that cat and write map at once, so that objects
// larger than the address space of 32-bit systems can be read.
const window = 64 << 20

// sizeFlag is a flag.Value for sizes.
type sizeFlag struct {
	n   int64
	set bool
}

func (s *sizeFlag) String() string {
	if s == nil {
		return ""
	}
	return exactSize(s.n)
}

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	s.n, s.set = n, true
	return nil
}

// modeFlag is a flag.Value for permission bits in octal.
type modeFlag struct{ m fs.FileMode }

func (m *modeFlag) String() string {
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%04o", uint32(m.m))
}

func (m *modeFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || n > 0o777 || n == 0 {
		return fmt.Errorf("invalid mode %q: want octal permission bits from 0001 to 0777, such as 0600", v)
	}
	m.m = fs.FileMode(n)
	return nil
}

var cmdCreate = &command{
	name:    "create",
	args:    "--size SIZE [--mode MODE] NAME",
	summary: "create a named object",
	help: `
Create the named object NAME of SIZE bytes, zero-filled, with permission
bits MODE (octal, default 0600; the umask applies, except on darwin, whose
kernel takes MODE as given).
An existing name is an error: nothing is ever replaced. The object is
published fully sized: nobody who opens NAME sees it half made. A name that
is not portable to every OS is created anyway, with a note on stderr.
On windows it is an error: a section lives only while a handle is open,
so it would vanish when this command exits.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		size := &sizeFlag{}
		mode := &modeFlag{m: 0o600}
		flags.Var(size, "size", "size of the object: "+sizeHelp+" (required)")
		flags.Var(mode, "mode", "permission bits in octal")
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, 1, "NAME"); err != nil {
			return err
		}
		if !size.set {
			return c.usageErr("missing --size")
		}
		name := pos[0]
		if err := shm.ValidPortableName(name); err != nil {
			if shm.ValidName(name) == nil {
				fmt.Fprintf(e.stderr, "shm: note: %v\n", errors.Unwrap(err))
			}
		}
		if runtime.GOOS == "windows" {
			// A section dies with its last handle: this process's.
			return fmt.Errorf("create %s: on windows a section lives only while a handle to it is open, so one made by shm create would vanish when the command exits; create it in the program that uses it (shm.Create), or run that program under shm exec: %w", quoteName(name), errors.ErrUnsupported)
		}
		o, err := shm.Create(name, size.n, mode.m)
		if err != nil {
			return objErr("create", name, err)
		}
		defer o.Close()
		where, err := o.Path()
		if err != nil {
			where = name
		}
		fmt.Fprintf(e.stdout, "created %s: %d bytes (%s), mode %04o, at %s\n", quoteName(name), size.n, formatSize(size.n), uint32(mode.m), where)
		return nil
	},
}

var cmdRm = &command{
	name:    "rm",
	args:    "NAME...",
	summary: "remove named objects",
	help: `
Remove each NAME (shm_unlink). Processes that hold an object keep it; its
memory is freed when the last of them lets go. Every name is tried; the
exit status is 1 if any could not be removed.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, -1, "NAME"); err != nil {
			return err
		}
		var errs []error
		for _, name := range pos {
			if err := shm.Unlink(name); err != nil {
				errs = append(errs, objErr("rm", name, err))
				continue
			}
			fmt.Fprintf(e.stdout, "removed %s\n", quoteName(name))
		}
		return joinErrs(errs)
	},
}

// joinErrs returns nil, the one error, or all of them one per line.
func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

var cmdCat = &command{
	name:    "cat",
	args:    "[--foreign] NAME",
	summary: "copy an object's bytes to stdout",
	help: `
Write the whole content of the named object NAME to stdout. The object is
opened read-only and read through a mapping; an object that shrinks while
it is read ends the command with an error instead of a crash.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		foreign := flags.Bool("foreign", false, foreignHelp)
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, 1, "NAME"); err != nil {
			return err
		}
		name := pos[0]
		o, err := shm.OpenReadOnly(name, openOpts(*foreign)...)
		if err != nil {
			return objErr("cat", name, err)
		}
		defer o.Close()
		if err := copyOut(e.stdout, o); err != nil {
			return objErr("cat", name, err)
		}
		return nil
	},
}

// copyOut writes o's bytes to w, one window at a time.
func copyOut(w io.Writer, o *shm.Object) error {
	size, err := o.Size()
	if err != nil {
		return err
	}
	buf := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; {
		n := min(size-off, window)
		m, err := o.MapRange(off, n, shm.ReadOnly)
		if err != nil {
			return err
		}
		for done := int64(0); done < n; {
			k, err := m.ReadAt(buf[:min(int64(len(buf)), n-done)], done)
			if err != nil {
				m.Close()
				return err
			}
			if _, err := w.Write(buf[:k]); err != nil {
				m.Close()
				return err
			}
			done += int64(k)
		}
		if err := m.Close(); err != nil {
			return err
		}
		off += n
	}
	return nil
}

var cmdWrite = &command{
	name:    "write",
	args:    "[--grow] [--foreign] NAME",
	summary: "copy stdin into an object",
	help: `
Copy stdin into the named object NAME from offset 0. Bytes past the end of
the input are left as they were. Input larger than the object is refused
before anything is written, unless --grow enlarges the object to fit (the
object never shrinks). The input is read whole before writing.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		grow := flags.Bool("grow", false, "enlarge the object to fit the input")
		foreign := flags.Bool("foreign", false, foreignHelp)
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, 1, "NAME"); err != nil {
			return err
		}
		name := pos[0]
		o, err := shm.Open(name, openOpts(*foreign)...)
		if err != nil {
			return objErr("write", name, err)
		}
		defer o.Close()
		size, err := o.Size()
		if err != nil {
			return objErr("write", name, err)
		}
		in := e.stdin
		if !*grow {
			in = io.LimitReader(in, size+1)
		}
		data, err := io.ReadAll(in)
		if err != nil {
			return fmt.Errorf("write %s: reading stdin: %w", name, err)
		}
		n := int64(len(data))
		if n > size {
			if !*grow {
				return fmt.Errorf("write %s: the input is larger than the %d-byte object (%s); nothing was written; use --grow to enlarge the object",
					name, size, formatSize(size))
			}
			if err := o.Truncate(n); err != nil {
				return objErr("write", name, err)
			}
			fmt.Fprintf(e.stderr, "shm: grew %s from %d to %d bytes\n", name, size, n)
		}
		for off := int64(0); off < n; {
			k := min(n-off, window)
			m, err := o.MapRange(off, k, shm.ReadWrite)
			if err != nil {
				return objErr("write", name, err)
			}
			_, err = m.WriteAt(data[off:off+k], 0)
			if cerr := m.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return objErr("write", name, err)
			}
			off += k
		}
		fmt.Fprintf(e.stdout, "wrote %d bytes to %s\n", n, quoteName(name))
		return nil
	},
}

var cmdTouch = &command{
	name:    "touch",
	args:    "[--foreign] NAME...",
	summary: "set objects' access and modification times to now",
	help: `
Set the access and modification times of each named object to now
(futimes on the object), so that cleaners that delete objects not used
for a while (OpenBSD's daily(8)) spare them. Using a mapping never updates
these times. For a lasting guard, see 'shm keepalive'.`,
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		foreign := flags.Bool("foreign", false, foreignHelp)
		pos, err := c.parse(e, flags, args, true)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 1, -1, "NAME"); err != nil {
			return err
		}
		var errs []error
		for _, name := range pos {
			o, err := shm.OpenReadOnly(name, openOpts(*foreign)...)
			if err != nil {
				errs = append(errs, objErr("touch", name, err))
				continue
			}
			err = o.Touch()
			o.Close()
			if err != nil {
				errs = append(errs, objErr("touch", name, err))
				continue
			}
			fmt.Fprintf(e.stdout, "touched %s\n", quoteName(name))
		}
		return joinErrs(errs)
	},
}
