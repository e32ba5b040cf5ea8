package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/cpeer"
)

var cmdBench = &command{
	name:    "bench",
	args:    "[--time DUR] [--large SIZE] [--rounds N] [--only GROUPS] [--json]",
	summary: "measure shm against its peers on this host",
	help: `
Measure shm's hot paths side by side with their peers, in this one
invocation, and print each figure in ns per operation with its ratio to
the peer (below 1.0 means shm is faster):

  create-anon            CreateAnon(4096)+Close vs the raw OS route (Linux:
                         memfd_create with the same flags, ftruncate,
                         close), and on Linux the raw route plus the
                         system call CreateAnon adds (fchmod 0600)
  mutex                  uncontended Lock+Unlock vs sync.Mutex and vs a C
                         process-shared robust pthread mutex
  semaphore-pingpong     a round trip between two processes over two shm
                         Semaphores vs C sem_t (process-shared), a pipe
                         pair and a Unix socketpair between the same two
                         processes (blocking read and write)
  semaphore-pingpong-paused-p50, -p99
                         the same round trip with a 1 ms sleep before
                         each round, against the pipe pair, the
                         socketpair and the wake pair (see the ring's
                         -paused rows) paused the same
  semaphore-idle-waiter  the CPU time a process asleep in Semaphore.Wait
                         uses, measured over DUR once it is asleep (ns
                         per op is CPU ns per second asleep)
  mutex-idle-waiter      the same for a process asleep in Mutex.Lock on a
                         mutex that this process holds
  large-SIZE VARIANT     (Linux) SIZE bytes (--large, default 1GiB; 0 skips
                         them) from CreateAnon to every page written once
                         to Close: plain, Populate, HugePages (THP), both,
                         and HugePageSize (hugetlb), against plain and a
                         raw memfd+mmap+touch in Go and in C; one variant
                         at a time, each freed before the next, --rounds
                         times in turn (default 1), fastest round kept.
                         The figure is CPU time (user+system of every
                         thread of the process: Populate prefaults on
                         several), which a loaded or virtual machine
                         distorts less than elapsed time; the note gives
                         the elapsed time too, and its ratio to plain's:
                         the time until the memory is usable.
                         The huge-page rows run where the host allows them
                         (shmem_enabled=advise, free hugetlb pages) and
                         say what to change otherwise; bench changes
                         nothing on the host.
  cacheline-roundtrip    a word bounced between two processes in shared
                         memory (spinning): near CPUs ~100-140 ns, far
                         ~500 ns; every data-moving figure follows it
  memcpy-1MiB            copy of 1 MiB in one process (GB/s in the note)
  ring-64B, ring-1KiB, ring-64KiB, ring-1MiB
                         a stream of messages from a child into this
                         process through a shm.Ring, copying at both ends
                         (Send, Receive), vs the same stream through a Go
                         net.UnixConn, a Go os.Pipe, and a pipe and a
                         socketpair with blocking read and write; ns per
                         message, msg/s or GB/s in the note
  ring-64KiB-peek        the ring with a zero-copy receive (Peek, Release)
  ring-64B-4senders      four sender processes into one receiver
  ring-roundtrip-64B-p50, -p99
                         64-byte round trips over two rings, both sides
                         awake, vs a Go net.UnixConn and the blocking pipe
                         pair and socketpair; in the -asleep rows the
                         ring's receiver never spins (Ring.SetSpin(0))
                         and 50 µs are spun before each round, so that
                         it is asleep in the kernel when the message
                         comes; the -paused rows sleep 1 ms before each
                         round instead; their peers pause the same way;
                         those two also run a wake pair, the floor under
                         them: a word stored and one futex (umtx, ulock)
                         wake per round, to a child asleep in the wait,
                         the waker yielding its CPU as the ring's spin
                         does after a wake-up
  ring-idle-receiver     the CPU of a process asleep in Ring.Receive, as
                         for the semaphore
  conn-roundtrip-64B-p50, -p99
                         64-byte round trips over a shm.Conn (Listen here,
                         Dial in a child that echoes) vs a Go
                         net.UnixConn made the same way
  conn-stream-1MiB       1 MiB writes from a child over a shm.Conn vs a
                         Go net.UnixConn, read into a 1 MiB buffer

On windows the process-pair rows (semaphore, idle, ring) run with Go
os.Pipes as their peer, and the rows of the peers that cannot run there say
why: windows has no socketpair, the C peer is POSIX C, and a net.UnixConn
needs AF_UNIX sockets (wine 8.0 has none). The idle rows read the waiter's
CPU with GetProcessTimes. The conn rows need shm.Conn, which windows does
not have yet.

--only runs some groups: a comma-separated list of anon, mutex,
semaphore, idle, large, ring and conn (default: all).

The functions compared are measured interleaved, in ten alternating
slices of about DUR/10 each, so that noise on the machine hits them alike.
The other processes are this program re-executed and the C peer, built
at run time with $CC (default cc) in a temporary directory that is removed
afterwards; without a compiler its rows say why they are missing. Nothing
is printed that was not measured in this run. BENCHMARKS.md records the
figures of one machine.`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		flags := c.flags()
		d := durationFlag(flags, "time", 500*time.Millisecond, "time spent on each function measured (a `duration` such as 500ms or 2s)")
		only := flags.String("only", "", "run only these `GROUPS`, comma-separated: anon, mutex, semaphore, idle, large, ring, conn")
		asJSON := flags.Bool("json", false, "print JSON")
		large := &sizeFlag{n: 1 << 30}
		flags.Var(large, "large", "size of the large-object rows (0: none): "+sizeHelp)
		rounds := flags.Int("rounds", 1, "rounds of the large-object rows")
		pos, err := c.parse(e, flags, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		if *d <= 0 || *d > 10*time.Minute {
			return c.usageErr("--time %v: want a duration above 0 and at most 10m", *d)
		}
		if *rounds < 1 || *rounds > 100 {
			return c.usageErr("--rounds %d: want 1 to 100", *rounds)
		}
		want := map[string]bool{}
		if *only != "" {
			for _, g := range strings.Split(*only, ",") {
				if !slices.Contains(benchGroups, g) {
					return c.usageErr("--only: unknown group %q; the groups are %s", g, strings.Join(benchGroups, ", "))
				}
				want[g] = true
			}
		}
		rep := benchReport{Machine: machineInfo()}
		if !*asJSON {
			printMachine(e.stdout, rep.Machine)
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		b := &bencher{ctx: ctx, d: *d, exe: exe, stderr: e.stderr}
		defer b.close()
		largeRows := func() ([]benchRow, error) { return b.large(large.n, *rounds) }
		for i, m := range []func() ([]benchRow, error){b.anon, b.mutex, b.pingPong, b.idle, largeRows, b.ringRows, b.connRows} {
			if len(want) > 0 && !want[benchGroups[i]] {
				continue
			}
			rows, err := m()
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			rep.Rows = append(rep.Rows, rows...)
		}
		if *asJSON {
			return writeJSON(e.stdout, rep)
		}
		printRows(e.stdout, rep.Rows)
		return nil
	},
}

// benchGroups name the groups of rows, in the order they run, for --only.
var benchGroups = []string{"anon", "mutex", "semaphore", "idle", "large", "ring", "conn"}

// benchRow is one measurement. Its JSON field names are stable and all
// present: a figure that was not measured is null, and note says why.
type benchRow struct {
	Name        string   `json:"name"`
	NsPerOp     *float64 `json:"ns_per_op"`
	Peer        string   `json:"peer"`
	PeerNsPerOp *float64 `json:"peer_ns_per_op"`
	Ratio       *float64 `json:"ratio"` // NsPerOp / PeerNsPerOp
	Note        string   `json:"note"`
}

type benchMachine struct {
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Idle   string `json:"idle"` // how an idle CPU waits (Linux cpuidle); "" where unknown
}

type benchReport struct {
	Machine benchMachine `json:"machine"`
	Rows    []benchRow   `json:"rows"`
}

func machineInfo() benchMachine {
	m := benchMachine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version(), Kernel: kernelRelease()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return strings.TrimSpace(string(b))
	}
	m.Idle = idleInfo(read("/sys/devices/system/cpu/cpuidle/current_driver"), read("/sys/module/haltpoll/parameters/guest_halt_poll_ns"))
	return m
}

// idleInfo describes how an idle CPU waits, from Linux's cpuidle driver
// and, for the haltpoll driver of a KVM guest, its guest_halt_poll_ns: the
// asleep round trips depend on it. A guest that does not poll halts its
// vCPU at once, and every wake-up of a process asleep there goes through
// the hypervisor (about 16-20 µs on the hosts of BENCHMARKS §7 against
// 4-5 µs when it polls).
func idleInfo(driver, pollNS string) string {
	switch {
	case driver == "":
		return ""
	case driver == "haltpoll" && pollNS == "0":
		return "cpuidle haltpoll, guest_halt_poll_ns 0: an idle vCPU halts at once, so waking a sleeping process goes through the hypervisor"
	case driver == "haltpoll" && pollNS != "":
		return fmt.Sprintf("cpuidle haltpoll, guest_halt_poll_ns %s: an idle vCPU polls that long before it halts", pollNS)
	}
	return "cpuidle " + driver
}

// cpuModel returns the first "model name" (x86, most others) or, failing
// that, "uarch" or "cpu model" (riscv, mips) of /proc/cpuinfo.
func cpuModel(cpuinfo string) string {
	for _, key := range []string{"model name", "uarch", "cpu model"} {
		for line := range strings.Lines(cpuinfo) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

func printMachine(w io.Writer, m benchMachine) {
	fmt.Fprintf(w, "machine: %s/%s, %s, %d CPUs, kernel %s, %s\n", m.GOOS, m.GOARCH,
		orDash(m.CPU, "CPU model unknown"), m.CPUs, orDash(m.Kernel, "unknown"), m.Go)
	if m.Idle != "" {
		fmt.Fprintf(w, "idle: %s\n", m.Idle)
	}
	fmt.Fprintln(w)
}

func orDash(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

func printRows(w io.Writer, rows []benchRow) {
	num := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tNS/OP\tPEER\tPEER NS/OP\tRATIO")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s", r.Name, num(r.NsPerOp, "%.1f"), orDash(r.Peer, "-"),
			num(r.PeerNsPerOp, "%.1f"), num(r.Ratio, "%.3fx"))
		if r.Note != "" {
			// A trailing cell: no padding at the end of the other lines.
			fmt.Fprintf(tw, "\t(%s)", r.Note)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// measured returns a row of ns against peer's peerNs; a peerNs of 0 is
// no peer figure.
func measured(name string, ns float64, peer string, peerNs float64) benchRow {
	r := benchRow{Name: name, NsPerOp: fig(ns, 10), Peer: peer}
	if peerNs > 0 {
		r.PeerNsPerOp = fig(peerNs, 10)
		r.Ratio = fig(ns/peerNs, 10000)
	}
	return r
}

// fig rounds v to 1/scale, keeping it a measured figure.
func fig(v, scale float64) *float64 {
	v = math.Round(v*scale) / scale
	return &v
}

// bencher runs the measurements.
type bencher struct {
	ctx    context.Context
	d      time.Duration
	exe    string
	stderr io.Writer

	once sync.Once
	peer *cpeer.Peer
	perr error
}

// cPeer builds the C peer once.
func (b *bencher) cPeer() (*cpeer.Peer, error) {
	b.once.Do(func() { b.peer, b.perr = cpeer.Build() })
	return b.peer, b.perr
}

func (b *bencher) close() {
	if b.peer != nil {
		b.peer.Close()
	}
}

// A contender is one function measured: run performs n operations and
// returns the time they took, not counting setup such as starting a
// process; n0 is where calibration starts (a first guess of a useful n).
type contender struct {
	run func(n int) (time.Duration, error)
	n0  int
}

// inProcess makes a contender of a loop that runs in this process.
func inProcess(loop func(n int) error) contender {
	return contender{n0: 1, run: func(n int) (time.Duration, error) {
		start := time.Now()
		err := loop(n)
		return time.Since(start), err
	}}
}

// benchTimeout bounds every run of another process and every wait on
// one, so that a lost partner ends the run with an error, not a hang.
const benchTimeout = 2 * time.Minute

// nSlices is the number of alternating slices of a measurement.
const nSlices = 10

// interleave measures the contenders in turn, nSlices times each, about d
// in total for each, and returns the ns per operation of each.
func (b *bencher) interleave(cs ...contender) ([]float64, error) {
	ns := make([]int, len(cs))
	for i, c := range cs {
		n, err := calibrate(b.d/nSlices, c)
		if err != nil {
			return nil, err
		}
		ns[i] = n
	}
	total := make([]time.Duration, len(cs))
	for range nSlices {
		for i, c := range cs {
			if err := b.ctx.Err(); err != nil {
				return nil, err
			}
			el, err := c.run(ns[i])
			if err != nil {
				return nil, err
			}
			total[i] += el
		}
	}
	per := make([]float64, len(cs))
	for i := range cs {
		per[i] = float64(total[i]) / float64(nSlices*ns[i])
	}
	return per, nil
}

// calibrate returns the n for which c.run(n) takes about target.
func calibrate(target time.Duration, c contender) (int, error) {
	const most = 1 << 30
	n := max(1, c.n0)
	for {
		el, err := c.run(n)
		if err != nil {
			return 0, err
		}
		if el >= target/4 || n >= most {
			per := max(float64(el)/float64(n), 0.01)
			return int(min(max(float64(target)/per, 1), most)), nil
		}
		grow := 100.0
		if el > 0 {
			grow = min(grow, 2*float64(target)/float64(el))
		}
		n = int(min(float64(n)*max(grow, 2), most))
	}
}

func (b *bencher) anon() ([]benchRow, error) {
	const name = "create-anon"
	shmFn := inProcess(func(n int) error {
		for range n {
			o, err := shm.CreateAnon(4096)
			if err != nil {
				return err
			}
			if err := o.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	steps := rawAnonSteps()
	if len(steps) == 0 {
		per, err := b.interleave(shmFn)
		if err != nil {
			return nil, err
		}
		r := measured(name, per[0], "", 0)
		r.Note = "no raw peer on " + runtime.GOOS + ": the raw route is what shm calls"
		return []benchRow{r}, nil
	}
	cs := []contender{shmFn}
	for _, s := range steps {
		cs = append(cs, inProcess(s.loop))
	}
	per, err := b.interleave(cs...)
	if err != nil {
		return nil, err
	}
	raw := per[1]
	rows := []benchRow{measured(name, per[0], steps[0].calls, raw)}
	for i, s := range steps[1:] {
		r := measured(s.name, per[i+2], steps[0].calls, raw)
		r.Note = fmt.Sprintf("%s adds %.0f ns", s.adds, per[i+2]-raw)
		rows = append(rows, r)
	}
	if last := len(steps) - 1; last > 0 {
		r := measured(name, per[0], steps[last].calls, per[last+1])
		r.Note = "the same system calls; the rest is Go: the Object, its cleanup, close bookkeeping"
		rows = append(rows, r)
	}
	return rows, nil
}

// rawStep is the raw route of CreateAnon, or the raw route plus the
// system calls that adds.
type rawStep struct {
	name  string // its row's name, e.g. "raw+fchmod"
	calls string // the system calls made, e.g. "memfd_create+ftruncate+close"
	adds  string // what it adds to the first step ("" for the first)
	loop  func(n int) error
}

func (b *bencher) mutex() ([]benchRow, error) {
	const name = "mutex"
	o, err := shm.CreateAnon(4096)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	mu, err := m.Mutex(0)
	if err != nil {
		return nil, err
	}
	cs := []contender{
		inProcess(func(n int) error {
			for range n {
				if err := mu.Lock(b.ctx); err != nil {
					return err
				}
				if err := mu.Unlock(); err != nil {
					return err
				}
			}
			return nil
		}),
		inProcess(func(n int) error {
			var smu sync.Mutex
			for range n {
				smu.Lock()
				//lint:ignore SA2001 an empty critical section is what is measured
				smu.Unlock()
			}
			return nil
		}),
	}
	const cName = "C robust pshared pthread mutex"
	c, why := (*contender)(nil), cPeerWhy
	if why == "" {
		c, why = b.cContender("mutex", 100_000)
	}
	if c != nil {
		cs = append(cs, *c)
	}
	per, err := b.interleave(cs...)
	if err != nil {
		return nil, err
	}
	rows := []benchRow{measured(name, per[0], "sync.Mutex", per[1])}
	if c == nil {
		r := measured(name, per[0], cName, 0)
		r.Note = why
		return append(rows, r), nil
	}
	return append(rows, measured(name, per[0], cName, per[2])), nil
}

// cContender is mode of the C peer as a contender, or nil and the reason
// it cannot run here.
func (b *bencher) cContender(mode string, n0 int) (*contender, string) {
	p, err := b.cPeer()
	if err != nil {
		return nil, err.Error()
	}
	c := contender{n0: n0, run: func(n int) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(b.ctx, benchTimeout)
		defer cancel()
		ns, err := p.RunContext(ctx, mode, n)
		return time.Duration(ns * float64(n)), err
	}}
	// A first run says whether the mode works on this system at all.
	if _, err := c.run(1); err != nil {
		return nil, err.Error()
	}
	return &c, ""
}
