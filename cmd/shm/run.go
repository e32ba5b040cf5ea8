package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// env is what a subcommand works with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
}

// A command is one subcommand.
type command struct {
	name    string
	args    string // after the name in the usage line
	summary string // one line, for the command list
	help    string // paragraphs printed by --help, after the usage line
	run     func(ctx context.Context, c *command, e *env, args []string) error
	hidden  bool
}

// commands lists the subcommands in the order the usage shows them. It is
// filled in by init to break the reference cycle through help.
var commands []*command

func init() {
	commands = []*command{
		cmdLs, cmdStat, cmdCreate, cmdRm, cmdCat, cmdWrite, cmdTouch, cmdKeepalive,
		cmdDoctor, cmdExec, cmdSend, cmdRecv, cmdDemo, cmdBench, cmdVersion, cmdHelp, cmdDemoChild, cmdBenchChild,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole command: it runs the subcommand args[0] with the rest
// of args. The returned error decides the exit status (see exitStatus).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, now: time.Now}
	if len(args) == 0 {
		printUsage(stderr)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return nil
	}
	c := lookup(args[0])
	if c == nil {
		if strings.HasPrefix(args[0], "-") {
			return &usageError{usage: "shm COMMAND [ARGS]", cmd: "", msg: fmt.Sprintf("unknown flag %s: flags follow the command", args[0])}
		}
		return &usageError{msg: fmt.Sprintf("unknown command %q; run 'shm --help' for the list", args[0])}
	}
	return c.run(ctx, c, e, args[1:])
}

// usageLine is the usage of c: "shm stat [--json] NAME".
func (c *command) usageLine() string {
	if c.args == "" {
		return "shm " + c.name
	}
	return "shm " + c.name + " " + c.args
}

// flags returns an empty flag set for c that prints nothing itself.
func (c *command) flags() *flag.FlagSet {
	set := flag.NewFlagSet("shm "+c.name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	set.Usage = func() {}
	return set
}

// parse parses args with flags and returns the positional arguments. When
// interleaved is true, flags may also follow positional arguments
// ("shm stat NAME --json"); "--" ends the flags either way. --help prints
// c's help to stdout and returns flag.ErrHelp; a bad flag is a
// *usageError.
func (c *command) parse(e *env, flags *flag.FlagSet, args []string, interleaved bool) ([]string, error) {
	var pos []string
	for {
		err := flags.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(e.stdout, flags)
			return nil, flag.ErrHelp
		}
		if err != nil {
			return nil, c.usageErr("%v", err)
		}
		rest := flags.Args()
		consumed := len(args) - len(rest)
		if !interleaved || len(rest) == 0 || consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageErr returns a usage error for c.
func (c *command) usageErr(format string, args ...any) error {
	return &usageError{cmd: c.name, usage: c.usageLine(), msg: c.name + ": " + fmt.Sprintf(format, args...)}
}

// printHelp prints c's usage line, help and flags.
func (c *command) printHelp(w io.Writer, flags *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.usageLine(), strings.TrimSpace(c.help))
	if flags == nil {
		return
	}
	var any bool
	flags.VisitAll(func(*flag.Flag) { any = true })
	if !any {
		return
	}
	fmt.Fprintf(w, "\nFlags:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	flags.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if typ != "" {
			name += " " + typ
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	})
	tw.Flush()
}

// printUsage prints the usage of shm itself.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: shm COMMAND [ARGS]\n\nshm inspects and uses POSIX shared memory on this host.\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'shm COMMAND --help' for a command's flags and details.\n"+
		"Names are shm_open names such as /myapp.state; /NAME with 1 to 30 of A-Z a-z 0-9 . _ - works on every OS.\n"+
		"Sizes are %s.\n", sizeHelp)
}

// needArgs checks the number of positional arguments.
func (c *command) needArgs(pos []string, min, max int, what string) error {
	switch {
	case len(pos) < min:
		return c.usageErr("missing %s", what)
	case max >= 0 && len(pos) > max:
		return c.usageErr("unexpected argument %q", pos[max])
	}
	return nil
}

var cmdHelp = &command{
	name:    "help",
	args:    "[COMMAND]",
	summary: "show the usage of shm or of a command",
	help:    "Print the usage of shm, or the help of COMMAND.",
	run: func(_ context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		pos, err := c.parse(e, flags, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 1, ""); err != nil {
			return err
		}
		if len(pos) == 0 {
			printUsage(e.stdout)
			return nil
		}
		target := lookup(pos[0])
		if target == nil || target.hidden {
			return c.usageErr("unknown command %q", pos[0])
		}
		// Print the target's help with its flags.
		return target.run(context.Background(), target, e, []string{"--help"})
	},
}
