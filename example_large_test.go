//go:build unix

package shm_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/shmkit/shm"
)

// A large object made usable at once: Populate faults every page in
// while mapping, and HugePages asks for huge pages where the host gives
// them to shared memory (see shm doctor).
func ExampleObject_Map_large() {
	o, err := shm.CreateAnon(64 << 20)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	m, err := o.Map(shm.Populate(), shm.HugePages())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(m.Len()>>20, "MiB mapped")
	// Output: 64 MiB mapped
}

// An object of reserved huge pages, and a fallback where the host has
// none free.
func ExampleHugePageSize() {
	o, err := shm.CreateAnon(64<<20, shm.HugePageSize(2<<20))
	if errors.Is(err, shm.ErrNoHugePages) || errors.Is(err, errors.ErrUnsupported) {
		// The error says what the host lacks (vm.nr_hugepages, ...).
		o, err = shm.CreateAnon(64 << 20)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer o.Close()
	size, _ := o.Size()
	fmt.Println(size>>20, "MiB")
	// Output: 64 MiB
}
