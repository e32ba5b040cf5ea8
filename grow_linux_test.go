package shm_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/shmkit/shm"
	"golang.org/x/sys/unix"
)

// The tests of this file run their bodies in a child process with a
// private mount namespace and a 1 MiB tmpfs over /dev/shm, so that a full
// /dev/shm can be had without filling the host's (issue 9, item 5).

func init() {
	registerHelper("tiny-devshm", tinyDevShmChild)
}

const (
	tinyNoMount = 3 // the child could not mount its tmpfs
	tinySize    = 1 << 20
	bigSize     = 16 << 20
)

// runInTinyDevShm runs the scenario named by args in a child whose
// /dev/shm is a 1 MiB tmpfs, with env added to its environment, and
// fails the test with the child's output if the child fails.
func runInTinyDevShm(t *testing.T, env []string, args ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs over /dev/shm in a private mount namespace needs root")
	}
	cmd := helperCommand(t, "tiny-devshm", args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Logf("%s", out)
	case errors.As(err, &ee) && ee.ExitCode() == tinyNoMount:
		t.Skipf("cannot mount a tmpfs over /dev/shm in a private mount namespace: %s", out)
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL):
		t.Skipf("unshare(CLONE_NEWNS) is not allowed here: %v", err)
	default:
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func tinyDevShmChild(args []string) int {
	if err := unix.Mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=1777", tinySize)); err != nil {
		fmt.Println("mount tmpfs on /dev/shm:", err)
		return tinyNoMount
	}
	var err error
	switch args[0] {
	case "truncate":
		err = tinyTruncate(args[1])
	case "anon":
		err = tinyAnon()
	case "writing":
		err = tinyWriting()
	case "populate":
		err = tinyPopulate()
	default:
		err = fmt.Errorf("unknown scenario %q", args[0])
	}
	if err != nil {
		fmt.Println("FAIL:", err)
		return 1
	}
	return 0
}

// wantNoSpace checks that err reports the full filesystem.
func wantNoSpace(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%s succeeded in a full /dev/shm", what)
	}
	if !errors.Is(err, unix.ENOSPC) || !strings.Contains(err.Error(), "reserve") {
		return fmt.Errorf("%s: %v; want ENOSPC and a word on reserving", what, err)
	}
	fmt.Printf("%s: %v\n", what, err)
	return nil
}

// checkGrowRefused checks that growing o past the tmpfs fails and leaves
// its size and contents as they were, then fills it whole through a
// mapping (which would die of SIGBUS if pages were missing).
func checkGrowRefused(o *shm.Object, size int64) error {
	if err := wantNoSpace("Truncate(16 MiB)", o.Truncate(bigSize)); err != nil {
		return err
	}
	if n, err := o.Size(); err != nil || n != size {
		return fmt.Errorf("size after a failed grow: %d, %v; want %d", n, err, size)
	}
	// A grow that fits is reserved too, and leaves room for nothing more.
	if err := o.Truncate(tinySize / 2); err != nil {
		return fmt.Errorf("Truncate(512 KiB): %v", err)
	}
	m, err := o.Map()
	if err != nil {
		return err
	}
	defer m.Close()
	b := m.Bytes()
	for i := range b {
		b[i] = 1
	}
	return nil
}

// tinyTruncate: Create then Truncate past the tmpfs.
func tinyTruncate(name string) error {
	o, err := shm.Create(name, 4096, 0)
	if err != nil {
		return err
	}
	defer shm.Unlink(name)
	defer o.Close()
	return checkGrowRefused(o, 4096)
}

// tinyAnon: CreateAnon past the tmpfs, then a small one grown past it,
// on whatever route the test forces (anonRouteEnv).
func tinyAnon() error {
	o, err := shm.CreateAnon(bigSize)
	if err == nil {
		o.Close()
		return fmt.Errorf("CreateAnon(16 MiB) succeeded in a 1 MiB /dev/shm")
	}
	if err := wantNoSpace("CreateAnon(16 MiB)", err); err != nil {
		return err
	}
	o, err = shm.CreateAnon(4096)
	if err != nil {
		return err
	}
	defer o.Close()
	fmt.Println("strategy", o.Strategy())
	return checkGrowRefused(o, 4096)
}

// tinyWriting: the zero-writing route of the systems without fallocate
// fails at the full tmpfs and cuts the file back.
func tinyWriting() error {
	f, err := os.CreateTemp("/dev/shm", "shmtest-writing-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		return err
	}
	if err := wantNoSpace("growByWriting(16 MiB)", shm.GrowByWriting(f, bigSize)); err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || st.Size() != 4096 {
		return fmt.Errorf("size after a failed grow by writing: %v, %v; want 4096", st.Size(), err)
	}
	if err := shm.GrowByWriting(f, 8192); err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || st.Size() != 8192 {
		return fmt.Errorf("size after a grow by writing: %v, %v; want 8192", st.Size(), err)
	}
	return nil
}

// TestTruncateGrowReserves: in a full /dev/shm, growing a named object
// fails with ENOSPC and keeps its size, instead of succeeding and leaving
// pages whose first touch raises SIGBUS.
func TestTruncateGrowReserves(t *testing.T) {
	runInTinyDevShm(t, nil, "truncate", testName(t))
}

// TestCreateAnonReservesOnFileRoutes: the anonymous routes that live in
// /dev/shm reserve their size at CreateAnon and at Truncate. (The memfd
// route lives on the kernel's tmpfs, which has no size limit.)
func TestCreateAnonReservesOnFileRoutes(t *testing.T) {
	for _, route := range []string{"tmpfile", "random", "openbsd", "solaris"} {
		t.Run(route, func(t *testing.T) {
			runInTinyDevShm(t, []string{anonRouteEnv(route)}, "anon")
		})
	}
}

// TestGrowByWriting: where there is no fallocate, zeros are written, and a
// failure cuts the object back to its size.
func TestGrowByWriting(t *testing.T) {
	runInTinyDevShm(t, nil, "writing")
}
