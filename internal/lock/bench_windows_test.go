package lock

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Windows benchmarks: shm's locks against the kernel's named mutex
// and semaphore, in the same run (BENCHMARKS.md records the ratios; under
// wine they are wine's figures, not Windows').

func init() {
	// win-pong-native: n times, wait on the named semaphore args[1] and
	// release args[2].
	helpers["win-pong-native"] = func(args []string) int {
		var n int
		fmt.Sscan(args[0], &n)
		a, err := namedSemaphore(args[1])
		if err == nil {
			var b windows.Handle
			if b, err = namedSemaphore(args[2]); err == nil {
				fmt.Println("ready")
				for range n {
					if _, err = windows.WaitForSingleObject(a, windows.INFINITE); err != nil {
						break
					}
					if err = releaseSemaphore(b); err != nil {
						break
					}
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
}

func namedSemaphore(name string) (windows.Handle, error) {
	r, _, e := procCreateSemaphoreW.Call(0, 0, 1<<30, uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(name))))
	if r == 0 {
		return 0, e
	}
	return windows.Handle(r), nil
}

func releaseSemaphore(h windows.Handle) error {
	if r, _, e := procReleaseSemaphore.Call(uintptr(h), 1, 0); r == 0 {
		return e
	}
	return nil
}

// BenchmarkWindowsUncontended: one Lock and Unlock (Wait and Post) with
// nobody else: shm's words against a named kernel mutex (semaphore).
func BenchmarkWindowsUncontended(b *testing.B) {
	b.Run("shm-mutex", func(b *testing.B) {
		section, r, _ := winSectionB(b)
		m, err := NewMutexIn(r, winMutex, winOwner(b), winKey(section, winMutex))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for b.Loop() {
			m.Lock(ctx)
			m.Unlock()
		}
	})
	b.Run("kernel-mutex", func(b *testing.B) {
		runtime.LockOSThread() // a Windows mutex belongs to a thread
		defer runtime.UnlockOSThread()
		h, err := windows.CreateMutex(nil, false, windows.StringToUTF16Ptr(strings.Replace(winName(), "locktest", "benchmutex", 1)))
		if err != nil {
			b.Fatal(err)
		}
		defer windows.CloseHandle(h)
		for b.Loop() {
			windows.WaitForSingleObject(h, windows.INFINITE)
			windows.ReleaseMutex(h)
		}
	})
	b.Run("shm-semaphore", func(b *testing.B) {
		section, r, _ := winSectionB(b)
		s, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for b.Loop() {
			s.Post()
			s.Wait(ctx)
		}
	})
	b.Run("kernel-semaphore", func(b *testing.B) {
		h, err := namedSemaphore(strings.Replace(winName(), "locktest", "benchsem", 1))
		if err != nil {
			b.Fatal(err)
		}
		defer windows.CloseHandle(h)
		for b.Loop() {
			releaseSemaphore(h)
			windows.WaitForSingleObject(h, windows.INFINITE)
		}
	})
}

// BenchmarkWindowsPingPong: one round trip between two processes, each
// posting the semaphore the other waits on: shm's semaphores against a
// pair of named kernel semaphores.
func BenchmarkWindowsPingPong(b *testing.B) {
	b.Run("shm-semaphore", func(b *testing.B) {
		section, r, _ := winSectionB(b)
		a, err := NewSemaphoreIn(r, winSem, winKey(section, winSem))
		if err != nil {
			b.Fatal(err)
		}
		c, err := NewSemaphoreIn(r, winSem2, winKey(section, winSem2))
		if err != nil {
			b.Fatal(err)
		}
		cmd, out := winChild(b, "win-pong", section, fmt.Sprint(b.N))
		if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			b.Fatalf("child said %q, %v", line, err)
		}
		ctx := context.Background()
		b.ResetTimer()
		for range b.N {
			a.Post()
			c.Wait(ctx)
		}
		b.StopTimer()
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("kernel-semaphore", func(b *testing.B) {
		name := winName()
		an, cn := strings.Replace(name, "locktest", "bencha", 1), strings.Replace(name, "locktest", "benchc", 1)
		a, err := namedSemaphore(an)
		if err != nil {
			b.Fatal(err)
		}
		defer windows.CloseHandle(a)
		c, err := namedSemaphore(cn)
		if err != nil {
			b.Fatal(err)
		}
		defer windows.CloseHandle(c)
		cmd, out := winChild(b, "win-pong-native", fmt.Sprint(b.N), an, cn)
		if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			b.Fatalf("child said %q, %v", line, err)
		}
		b.ResetTimer()
		for range b.N {
			releaseSemaphore(a)
			windows.WaitForSingleObject(c, windows.INFINITE)
		}
		b.StopTimer()
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	})
}
