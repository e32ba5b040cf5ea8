// Package cpeer builds and runs the C peers that shm's benchmarks compare
// against: a process-shared robust pthread mutex and glibc's process-shared
// sem_t (cbench.c). The source is embedded, so both the benchmarks and
// `shm bench` build it with the host's C compiler at run time.
package cpeer

import (
	"bytes"
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
		return nil, fmt.Errorf("%s cbench.c: %v: %s", cc, err, bytes.TrimSpace(out))
	}
	return &Peer{dir: dir, bin: bin}, nil
}

// Run runs mode ("mutex" or "sem") for n operations and returns the
// nanoseconds per operation the C program measured.
func (p *Peer) Run(mode string, n int) (float64, error) {
	out, err := exec.Command(p.bin, mode, strconv.Itoa(n)).Output()
	if err != nil {
		return 0, fmt.Errorf("cbench %s: %w", mode, err)
	}
	ns, err := strconv.ParseFloat(string(bytes.TrimSpace(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("cbench %s printed %q", mode, out)
	}
	return ns, nil
}

// Close removes the built binary.
func (p *Peer) Close() error { return os.RemoveAll(p.dir) }
