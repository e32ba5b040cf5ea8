package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// rusageCPU is the user and system CPU time of this process.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel's own account of this process (getrusage)
	// has grown by 20 ms of CPU, however long that takes on a loaded
	// machine; processCPU must have seen at least half of it.
	r0 := rusageCPU(t)
	for rusageCPU(t)-r0 < 20*time.Millisecond {
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 10*time.Millisecond {
		t.Errorf("20 ms of CPU by getrusage counted as %v by processCPU", d)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for pid -1")
	}
}
