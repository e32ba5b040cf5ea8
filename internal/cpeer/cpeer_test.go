package cpeer

import (
	"runtime"
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
	}
}
