package prefetch

import (
	"bytes"
	"os"
	"runtime"
	"testing"
	"unsafe"
)

// TestAvailable checks the CPUID test against the kernel's reading of the
// same bit: Linux names PRFCHW "3dnowprefetch" in /proc/cpuinfo.
func TestAvailable(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		if Available {
			t.Fatalf("Available on %s", runtime.GOARCH)
		}
		return
	}
	if runtime.GOOS != "linux" {
		t.Skipf("the CPU's flags are read from Linux's /proc/cpuinfo; this is %s (Available: %v)", runtime.GOOS, Available)
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to compare with (%v); Available: %v", err, Available)
	}
	var flags []byte
	for line := range bytes.Lines(info) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(k)) == "flags" {
			flags = v
			break
		}
	}
	if flags == nil {
		t.Skipf("/proc/cpuinfo has no flags line (Available: %v)", Available)
	}
	want := false
	for _, f := range bytes.Fields(flags) {
		if string(f) == "3dnowprefetch" {
			want = true
		}
	}
	if Available != want {
		t.Fatalf("Available = %v, but /proc/cpuinfo's flags say %v", Available, want)
	}
	t.Logf("PREFETCHW available: %v", Available)
}

// TestForWriteChangesNothing prefetches every line of a buffer and checks
// that no byte changed.
func TestForWriteChangesNothing(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for i := range buf {
		ForWrite(unsafe.Pointer(&buf[i]))
	}
	for i := range buf {
		if buf[i] != byte(i*7) {
			t.Fatalf("byte %d is %d after ForWrite, want %d", i, buf[i], byte(i*7))
		}
	}
}
