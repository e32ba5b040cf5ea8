//go:build unix

package shm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"unsafe"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("example-lock-child", func([]string) int {
		o, err := shm.Inherited("counter")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer o.Close()
		m, err := o.Map()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer m.Close()
		mu, err := m.Mutex(0)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		done, err := m.Semaphore(8)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		n := (*int64)(unsafe.Pointer(&m.Bytes()[64]))
		for range 1000 {
			if err := mu.Lock(context.Background()); err != nil {
				fmt.Println(err)
				return 1
			}
			*n++
			mu.Unlock()
		}
		done.Post()
		return 0
	})
}

// A counter shared by two processes, guarded by a Mutex at offset 0; the
// child says it is done with a Semaphore at offset 8.
func ExampleMapping_Mutex() {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	mu, err := m.Mutex(0)
	if err != nil {
		log.Fatal(err)
	}
	done, err := m.Semaphore(shm.MutexSize)
	if err != nil {
		log.Fatal(err)
	}

	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=example-lock-child")
	cmd.Stdout = os.Stdout
	if err := shm.Pass(cmd, "counter", o); err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}

	n := (*int64)(unsafe.Pointer(&m.Bytes()[64]))
	ctx := context.Background()
	for range 1000 {
		if err := mu.Lock(ctx); errors.Is(err, shm.ErrOwnerDead) {
			// The child died holding the lock: repair *n here, then
			mu.MarkConsistent()
		} else if err != nil {
			log.Fatal(err)
		}
		*n++
		mu.Unlock()
	}
	if err := done.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	cmd.Wait()
	mu.Lock(ctx)
	fmt.Println("count:", *n)
	mu.Unlock()
	// Output: count: 2000
}

// A semaphore counts tokens: Post adds one, Wait takes one (waiting for
// it if need be), TryWait takes one only if it is there.
func ExampleMapping_Semaphore() {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.Semaphore(0)
	if err != nil {
		log.Fatal(err)
	}
	s.Post()
	s.Post()
	v, err := s.Value()
	fmt.Println("value:", v, err)
	fmt.Println("wait:", s.Wait(context.Background()))
	ok1, _ := s.TryWait()
	ok2, err := s.TryWait()
	fmt.Println("try:", ok1, ok2, err)
	// Output:
	// value: 2 <nil>
	// wait: <nil>
	// try: true false <nil>
}

// Lock handles never outlive their Mapping: after Close every call fails
// with an error matching fs.ErrClosed (a call asleep in Lock or Wait is
// woken and fails the same way). Failures of the calls themselves match
// exported sentinels.
func ExampleMapping_Close_locks() {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	mu, err := m.Mutex(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.Semaphore(8)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unlock a free mutex:", errors.Is(mu.Unlock(), shm.ErrNotHeld))
	m.Close()
	fmt.Println("lock after close:", errors.Is(mu.Lock(context.Background()), fs.ErrClosed))
	fmt.Println("post after close:", errors.Is(s.Post(), fs.ErrClosed))
	// Output:
	// unlock a free mutex: true
	// lock after close: true
	// post after close: true
}
