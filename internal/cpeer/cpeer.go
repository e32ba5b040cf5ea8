// Package cpeer builds and runs the C peers that shm's benchmarks compare
// against: a process-shared robust pthread mutex and glibc's process-shared
// sem_t (cbench.c). The source is embedded, so both the benchmarks and
// `shm bench` build it with the host's C compiler at run time.
package cpeer

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Source is c/cbench.c.
//
//go:embed c/cbench.c
var Source []byte

// A Peer is a built cbench binary.
type Peer struct {
	dir string
	bin string
}

// Build compiles cbench.c with $CC (default cc) into a new temporary
// directory. It fails, saying why, where there is no compiler. Close
// removes the binary.
func Build() (*Peer, error) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	path, err := exec.LookPath(cc)
	if err != nil {
		return nil, fmt.Errorf("no C compiler: %w", err)
	}
	dir, err := os.MkdirTemp("", "shm-cpeer-")
	if err != nil {
		return nil, err
	}
	src := filepath.Join(dir, "cbench.c")
	if err := os.WriteFile(src, Source, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	bin := filepath.Join(dir, "cbench")
	if out, err := exec.Command(path, "-O2", "-pthread", "-o", bin, src).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s cbench.c: %v: %s", cc, err, firstLine(out))
	}
	return &Peer{dir: dir, bin: bin}, nil
}

// Run runs mode ("mutex" or "sem") for n operations and returns the
// nanoseconds per operation the C program measured.
func (p *Peer) Run(mode string, n int) (float64, error) {
	return p.RunContext(context.Background(), mode, n)
}

// RunContext is Run, killing the C program when ctx is done. A failure
// carries what the program printed on stderr (for instance that this
// libc has no process-shared semaphores).
func (p *Peer) RunContext(ctx context.Context, mode string, n int) (float64, error) {
	cmd := exec.CommandContext(ctx, p.bin, mode, strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := bytes.TrimSpace(stderr.Bytes()); len(msg) > 0 {
			return 0, fmt.Errorf("cbench %s: %w: %s", mode, err, msg)
		}
		return 0, fmt.Errorf("cbench %s: %w", mode, err)
	}
	ns, err := strconv.ParseFloat(string(bytes.TrimSpace(out)), 64)
	if err != nil || ns <= 0 {
		return 0, fmt.Errorf("cbench %s printed %q", mode, out)
	}
	return ns, nil
}

// Close removes the built binary.
func (p *Peer) Close() error { return os.RemoveAll(p.dir) }

// firstLine returns the first non-empty line of a compiler's output, so
// that a missing header reads as one line.
func firstLine(out []byte) []byte {
	for line := range bytes.Lines(out) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line
		}
	}
	return nil
}
