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
	"time"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("example-child", func([]string) int {
		o, err := shm.Inherited("greeting")
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
		fmt.Printf("child read %q\n", m.Bytes()[:17])
		copy(m.Bytes()[64:], "hello from child")
		return 0
	})
}

// An anonymous object: no name anywhere, two mappings of the same memory.
func ExampleCreateAnon() {
	o, err := shm.CreateAnon(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	w, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	r, err := o.MapReadOnly()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	copy(w.Bytes(), "shared")
	fmt.Printf("%s, %d bytes, name %q\n", r.Bytes()[:6], r.Len(), o.Name())
	// Output: shared, 4096 bytes, name ""
}

// Passing an anonymous object to a child process across exec. The child
// (here this test binary again) calls shm.Inherited("greeting").
func ExamplePass() {
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
	copy(m.Bytes(), "hello from parent")

	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=example-child")
	cmd.Stdout = os.Stdout
	if err := shm.Pass(cmd, "greeting", o); err != nil { // sets SHM_FD_greeting=3
		log.Fatal(err)
	}
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("parent read %q\n", m.Bytes()[64:80])
	// Output:
	// child read "hello from parent"
	// parent read "hello from child"
}

// A named object: the one C's shm_open("/example-jobs") opens too.
func ExampleCreate() {
	const name = "/shm-example-jobs"
	o, err := shm.Create(name, 64<<10, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	defer shm.Unlink(name)

	_, err = shm.Create(name, 64<<10, 0o600)
	fmt.Println("taken:", errors.Is(err, fs.ErrExist))

	again, err := shm.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer again.Close()
	size, _ := again.Size()
	fmt.Println("size:", size)
	// Output:
	// taken: true
	// size: 65536
}

// Keeping a named object alive for as long as the program runs, and
// hearing about it when a cleaner or a person removes its name.
func ExampleObject_KeepAlive() {
	o, err := shm.Open("/jobs")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		err := o.KeepAlive(context.Background(), 0) // touch hourly, hold a shared flock
		if errors.Is(err, shm.ErrNameLost) {
			log.Printf("%s: %v: newcomers cannot find the object any more", o.Name(), err)
		}
	}()
	time.Sleep(time.Second)
}
