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
	for start := time.Now(); time.Since(start) < 20*time.Millisecond; {
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// 20 ms of spinning is at least 10 ms of CPU on any scheduler.
	if d := after - before; d < 10*time.Millisecond {
		t.Errorf("20 ms of spinning counted as %v of CPU", d)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for pid -1")
	}
}
