package futex

import (
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/shmdebug"
	"golang.org/x/sys/unix"
)

func init() { helpers["waiter"] = waiterChild }

// sharedPage makes a memfd-backed MAP_SHARED page.
func sharedPage(t *testing.T) (*os.File, []byte) {
	t.Helper()
	fd, err := unix.MemfdCreate("futex-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return f, mem
}

func word(mem []byte, i int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[4*i])) }

// waiterChild maps fd 3, says it is ready in word 1, and sleeps on word 0
// until it becomes non-zero. Exit 3: not woken within 10 s.
func waiterChild() int {
	mem, err := unix.Mmap(3, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w := word(mem, 0)
	atomic.StoreUint32(word(mem, 1), 1)
	deadline := time.Now().Add(10 * time.Second)
	for atomic.LoadUint32(w) == 0 {
		if err := Wait(w, 0, deadline); err != nil {
			fmt.Fprintln(os.Stderr, "waiter:", err)
			return 3
		}
	}
	return 0
}

// TestWakeAcrossProcesses wakes a waiter sleeping in another process: a
// process-private futex would leave it asleep until its 10 s deadline.
func TestWakeAcrossProcesses(t *testing.T) {
	modes(t, func(t *testing.T) {
		f, mem := sharedPage(t)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=waiter", shmdebug.Var+"="+map[bool]string{true: "futex=poll"}[Kind() == "poll"])
		cmd.ExtraFiles = []*os.File{f}
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for atomic.LoadUint32(word(mem, 1)) == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let it fall asleep in the kernel
		start := time.Now()
		atomic.StoreUint32(word(mem, 0), 1)
		if err := Wake(word(mem, 0), 1); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
		t.Logf("child woke and exited in %v", time.Since(start))
	})
}
