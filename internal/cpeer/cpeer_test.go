package cpeer

import (
	"context"
	"github.com/shmkit/shm/internal/wine"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestBuildAndRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("cbench.c uses glibc's process-shared sem_t; runs on linux, this is %s", runtime.GOOS)
	}
	p, err := Build()
	if err != nil {
		t.Skipf("cannot build the C peer here (.ci/run installs gcc): %v", err)
	}
	if !strings.HasPrefix(p.bin, os.TempDir()) {
		t.Errorf("built at %s, not under %s", p.bin, os.TempDir())
	}
	defer p.Close()
	for _, mode := range []string{"mutex", "sem"} {
		ns, err := p.Run(mode, 2000)
		if err != nil {
			t.Fatal(err)
		}
		if ns <= 0 {
			t.Errorf("%s: %v ns/op", mode, ns)
		}
	}
	if _, err := p.Run("bogus", 1); err == nil {
		t.Error("an unknown mode succeeded")
	} else if !strings.Contains(err.Error(), "unknown mode bogus") {
		t.Errorf("the error does not carry the program's stderr: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.RunContext(ctx, "mutex", 1000); err == nil {
		t.Error("a run with a done context succeeded")
	}
}

func TestCloseRemovesTheBinary(t *testing.T) {
	wine.SkipTempDir(t)
	t.Setenv("TMPDIR", t.TempDir())
	p, err := Build()
	if err != nil {
		t.Skipf("cannot build the C peer here (.ci/run installs gcc): %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after Close (%v)", p.dir, err)
	}
}

func TestNoCompiler(t *testing.T) {
	t.Setenv("CC", "shm-no-such-compiler")
	if p, err := Build(); err == nil {
		p.Close()
		t.Fatal("Build succeeded without a compiler")
	} else if !strings.Contains(err.Error(), "no C compiler") {
		t.Errorf("the error does not say why: %v", err)
	}
}
