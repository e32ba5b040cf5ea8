package shm_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

func init() {
	// win-lock-named: open the object args[0] by name, map its second
	// 64 KiB, and answer the semaphore at offset 0 of that mapping
	// (offset 65536 of the object) through the one at offset 8, after
	// printing the wait key of offset 0.
	registerHelper("win-lock-named", func(args []string) int {
		o, err := shm.Open(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer o.Close()
		m, err := o.MapRange(65536, 65536, shm.ReadWrite)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer m.Close()
		key, err := shm.WaitKey(m, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ping, err := m.Semaphore(0)
		if err == nil {
			var pong *shm.Semaphore
			if pong, err = m.Semaphore(8); err == nil {
				fmt.Println(key)
				for range 100 {
					if err = ping.Wait(context.Background()); err != nil {
						break
					}
					if err = pong.Post(); err != nil {
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
	})
}

// TestWindowsLocksNamed: the semaphores of a named object, opened by name
// in another process and mapped there from another offset, are the same
// semaphores: the wait objects are keyed by the section's name and the
// word's offset in the section, not in the mapping: both processes
// compute the same key (were they to differ, the wake-ups would be lost
// and only the waiters' one-second slices would carry the exchange).
func TestWindowsLocksNamed(t *testing.T) {
	name := winName(t)
	o, err := shm.Create(name, 2*65536, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ping, err := m.Semaphore(65536)
	if err != nil {
		t.Fatal(err)
	}
	pong, err := m.Semaphore(65536 + 8)
	if err != nil {
		t.Fatal(err)
	}
	cmd := helperCommand(t, "win-lock-named", name)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	want, err := shm.WaitKey(m, 65536)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(want, `\`+name[1:]+"@65536") {
		t.Errorf("wait key %q does not end in the section's name and the offset", want)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != want {
		t.Fatalf("the child's wait key %q (%v), want %q", line, err, want)
	}
	for range 100 {
		if err := ping.Post(); err != nil {
			t.Fatal(err)
		}
		if err := pong.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}
