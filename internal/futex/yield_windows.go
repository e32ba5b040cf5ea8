package futex

import "golang.org/x/sys/windows"

// CanYield reports whether Yield gives up the CPU on this system. On
// windows Wait polls, but the locks sleep in the kernel on a named
// semaphore per word (internal/lock's waitq_windows.go), and their
// wake-ups make a sleeper runnable.
const CanYield = true

var procSwitchToThread = windows.NewLazySystemDLL("kernel32.dll").NewProc("SwitchToThread")

// Yield gives up the CPU to another thread ready to run on it
// (SwitchToThread).
func Yield() { _, _, _ = procSwitchToThread.Call() }
