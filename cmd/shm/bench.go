package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shmkit/shm"
	"github.com/shmkit/shm/internal/cpeer"
)

var cmdBench = &command{
	name:    "bench",
	args:    "[--time DUR] [--json]",
	summary: "measure shm against its peers on this host",
	help: `
Measure shm's hot paths side by side with their peers, in this one
invocation, and print each figure with its ratio to the peer (below 1.0
means shm is faster):

  create-anon         CreateAnon(4096)+Close vs the raw OS call
                      (Linux: memfd_create+ftruncate+close)
  mutex               uncontended Lock+Unlock vs sync.Mutex, and vs a C
                      process-shared robust pthread mutex
  semaphore-pingpong  a round trip between two processes over two shm
                      Semaphores vs glibc sem_t (C), a pipe pair and a
                      Unix socketpair between the same two processes

Paired figures are measured interleaved, so that noise on the machine hits
both alike. The C peers are built at run time with $CC (default cc); without
a compiler their rows say why they are missing. Nothing is printed that was
not measured in this run. BENCHMARKS.md records the figures of one machine.`,
	run: func(ctx context.Context, c *command, e *env, args []string) error {
		fs := c.flags()
		d := fs.Duration("time", 300*time.Millisecond, "time spent on each measurement")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := c.parse(e, fs, args, false)
		if err != nil {
			return err
		}
		if err := c.needArgs(pos, 0, 0, ""); err != nil {
			return err
		}
		if *d <= 0 || *d > 10*time.Minute {
			return c.usageErr("--time %v: want a duration above 0 and at most 10m", *d)
		}
		rep := benchReport{Machine: machineInfo()}
		if !*asJSON {
			printMachine(e, rep.Machine)
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		b := &bencher{ctx: ctx, d: *d, exe: exe}
		for _, m := range []func() ([]benchRow, error){b.anon, b.mutex, b.pingPong} {
			rows, err := m()
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			rep.Rows = append(rep.Rows, rows...)
		}
		b.close()
		if *asJSON {
			return writeJSON(e.stdout, rep)
		}
		printRows(e, rep.Rows)
		return nil
	},
}

// benchRow is one measurement. Its JSON field names are stable.
type benchRow struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op,omitempty"`
	Peer        string  `json:"peer,omitempty"`
	PeerNsPerOp float64 `json:"peer_ns_per_op,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	Note        string  `json:"note,omitempty"`
}

type benchMachine struct {
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	CPU    string `json:"cpu,omitempty"`
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel,omitempty"`
	Go     string `json:"go"`
}

type benchReport struct {
	Machine benchMachine `json:"machine"`
	Rows    []benchRow   `json:"rows"`
}

func machineInfo() benchMachine {
	m := benchMachine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version(), Kernel: kernelRelease()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func printMachine(e *env, m benchMachine) {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(e.stdout, "machine: %s/%s, %s, %d CPUs, kernel %s, %s\n\n", m.GOOS, m.GOARCH, cpu, m.CPUs, orDash(m.Kernel), m.Go)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printRows(e *env, rows []benchRow) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tNS/OP\tPEER\tPEER NS/OP\tRATIO")
	for _, r := range rows {
		if r.NsPerOp == 0 {
			fmt.Fprintf(tw, "%s\t-\t%s\t-\t-\t(%s)\n", r.Name, orDash(r.Peer), r.Note)
			continue
		}
		if r.Peer == "" || r.PeerNsPerOp == 0 {
			note := ""
			if r.Note != "" {
				note = "(" + r.Note + ")"
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t-\t-\t%s\n", r.Name, r.NsPerOp, orDash(r.Peer), note)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.1f\t%.3fx\n", r.Name, r.NsPerOp, r.Peer, r.PeerNsPerOp, r.Ratio)
	}
	tw.Flush()
}

// bencher runs the measurements.
type bencher struct {
	ctx  context.Context
	d    time.Duration
	exe  string
	peer *cpeer.Peer
	perr error
	once sync.Once
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

// calibrate returns how many calls of fn fill about d.
func calibrate(d time.Duration, fn func(n int)) int {
	n := 1
	for {
		start := time.Now()
		fn(n)
		el := time.Since(start)
		if el >= d/20 || n >= 1<<30 {
			per := float64(el) / float64(n)
			if per <= 0 {
				per = 1
			}
			return max(1, int(float64(d)/per))
		}
		n *= 2
	}
}

// single measures fn alone and returns its ns per op.
func single(d time.Duration, fn func(n int)) float64 {
	n := calibrate(d, fn)
	start := time.Now()
	fn(n)
	return float64(time.Since(start)) / float64(n)
}

// pair measures a and b interleaved: each runs in ten alternating slices
// of about d/10 in total per function, and the ns per op of each is
// returned.
func pair(d time.Duration, a, b func(n int)) (float64, float64) {
	na := max(1, calibrate(d, a)/10)
	nb := max(1, calibrate(d, b)/10)
	var ta, tb time.Duration
	for range 10 {
		s := time.Now()
		a(na)
		m := time.Now()
		b(nb)
		ta += m.Sub(s)
		tb += time.Since(m)
	}
	return float64(ta) / float64(10*na), float64(tb) / float64(10*nb)
}

func row(name string, ns float64, peer string, peerNs float64) benchRow {
	r := benchRow{Name: name, NsPerOp: ns, Peer: peer, PeerNsPerOp: peerNs}
	if peerNs > 0 {
		r.Ratio = ns / peerNs
	}
	return r
}

func (b *bencher) anon() ([]benchRow, error) {
	var err error
	shmFn := func(n int) {
		for range n {
			o, e := shm.CreateAnon(4096)
			if e != nil {
				err = e
				return
			}
			o.Close()
		}
	}
	raw, rawName := rawAnon()
	if raw == nil {
		return []benchRow{{Name: "create-anon", NsPerOp: single(b.d, shmFn), Note: "no raw peer on " + runtime.GOOS}}, err
	}
	var rerr error
	rawFn := func(n int) {
		if e := raw(n); e != nil {
			rerr = e
		}
	}
	a, r := pair(b.d, shmFn, rawFn)
	if err == nil {
		err = rerr
	}
	return []benchRow{row("create-anon", a, rawName, r)}, err
}

func (b *bencher) mutex() ([]benchRow, error) {
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
	var lerr error
	shmFn := func(n int) {
		for range n {
			if e := mu.Lock(b.ctx); e != nil {
				lerr = e
				return
			}
			mu.Unlock()
		}
	}
	var smu sync.Mutex
	syncFn := func(n int) {
		for range n {
			smu.Lock()
			//lint:ignore SA2001 an empty critical section is what is measured
			smu.Unlock()
		}
	}
	a, s := pair(b.d, shmFn, syncFn)
	if lerr != nil {
		return nil, lerr
	}
	rows := []benchRow{row("mutex", a, "sync.Mutex", s)}
	rows = append(rows, b.cRow("mutex", a, "C robust pshared pthread mutex", int(float64(b.d)/16)))
	return rows, nil
}

// cRow runs the C peer's mode for n operations and compares ns with it.
func (b *bencher) cRow(mode string, ns float64, peer string, n int) benchRow {
	name := map[string]string{"mutex": "mutex", "sem": "semaphore-pingpong"}[mode]
	if runtime.GOOS != "linux" {
		return benchRow{Name: name, NsPerOp: ns, Peer: peer, Note: "the C peer uses glibc; linux only"}
	}
	p, err := b.cPeer()
	if err != nil {
		return benchRow{Name: name, NsPerOp: ns, Peer: peer, Note: err.Error()}
	}
	cns, err := p.Run(mode, max(1000, min(n, 5_000_000)))
	if err != nil {
		return benchRow{Name: name, NsPerOp: ns, Peer: peer, Note: err.Error()}
	}
	return row(name, ns, peer, cns)
}
