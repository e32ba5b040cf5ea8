//go:build unix

package shm_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"

	"github.com/shmkit/shm"
)

func init() {
	registerHelper("example-ring-child", func([]string) int {
		o, err := shm.Inherited("queue")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer o.Close()
		m, err := o.Map()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer m.Close()
		r, err := m.Ring(0, shm.RingSize(64, 16))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer r.Close()
		for i := range 3 {
			if err := r.Send(context.Background(), fmt.Appendf(nil, "hello %d", i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		// The parent's Receive returns io.EOF after the last message.
		r.CloseSend()
		return 0
	})
}

// A child process sends messages to its parent through a ring in an
// object passed with shm.Pass; the parent reads them until io.EOF.
func ExampleMapping_Ring() {
	size := shm.RingSize(64, 16) // messages of up to 64 bytes, 16 at once
	o, err := shm.CreateAnon(int64(size))
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r, err := m.Ring(0, size) // zero bytes are an empty ring
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=example-ring-child")
	cmd.Stderr = os.Stderr
	if err := shm.Pass(cmd, "queue", o); err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Wait()

	var buf []byte
	for {
		msg, err := r.Receive(context.Background(), buf)
		if err == io.EOF {
			break // the child closed its sending side (or died)
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
		buf = msg
	}
	// Output:
	// hello 0
	// hello 1
	// hello 2
}

// Zero copy at both ends: Reserve hands out room in the ring to fill,
// Peek the next message in place.
func ExampleRing_Reserve() {
	size := shm.RingSize(1024, 4)
	o, err := shm.CreateAnon(int64(size))
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r, err := m.Ring(0, size)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	room, err := r.Reserve(ctx, 1024)
	if err != nil {
		log.Fatal(err)
	}
	n := copy(room, "written in place")
	if err := r.Commit(n); err != nil { // deliver the first n bytes
		log.Fatal(err)
	}

	msg, err := r.Peek(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)
	if err := r.Release(); err != nil { // msg is invalid from here on
		log.Fatal(err)
	}
	// Output: written in place
}

// One goroutine per side and one sending handle: OpenSendExclusive keeps
// other senders out, and a RingSender and a RingReceiver take their
// sides for the goroutines that use them, which saves work per message.
func ExampleRing_Sender() {
	size := shm.RingSize(64, 64)
	o, err := shm.CreateAnon(int64(size))
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r, err := m.Ring(0, size)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	if err := r.OpenSendExclusive(); err != nil {
		log.Fatal(err)
	}
	go func() {
		tx, err := r.Sender(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer tx.Close()
		for i := range 3 {
			if err := tx.Send(ctx, fmt.Appendf(nil, "message %d", i)); err != nil {
				log.Fatal(err)
			}
		}
		tx.CloseSend() // the receiver gets io.EOF after the last message
	}()

	rx, err := r.Receiver(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close()
	var buf []byte
	for {
		msg, err := rx.Receive(ctx, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", msg)
		buf = msg
	}
	// Output:
	// message 0
	// message 1
	// message 2
}
