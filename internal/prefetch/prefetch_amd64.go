package prefetch

import "unsafe"

// Available reports whether ForWrite issues a prefetch: the CPU reports
// PREFETCHW (CPUID 0x80000001, ECX bit 8, "PRFCHW"; AMD since the K6-2,
// Intel since Broadwell).
var Available = hasPrefetchW()

// ForWrite asks the CPU to fetch the line that holds p for writing.
func ForWrite(p unsafe.Pointer) {
	if Available {
		prefetchw(p)
	}
}

// prefetchw executes PREFETCHW on p.
//
//go:noescape
func prefetchw(p unsafe.Pointer)

// cpuid executes CPUID with eax and ecx set as given.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func hasPrefetchW() bool {
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt < 0x80000001 {
		return false
	}
	_, _, ecx, _ := cpuid(0x80000001, 0)
	return ecx&(1<<8) != 0
}
