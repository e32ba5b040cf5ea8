package main

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the count moves by 10 ms: on a loaded machine that takes
	// longer, never forever. A count that does not move in a minute of
	// spinning is broken.
	var after time.Duration
	for start := time.Now(); ; {
		if after, err = processCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if after-before >= 10*time.Millisecond {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("a minute of spinning counted as %v of CPU", after-before)
		}
		for spin := time.Now(); time.Since(spin) < time.Millisecond; {
		}
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for pid -1")
	}
}
