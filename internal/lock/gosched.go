package lock

import "runtime"

// Letting the process's own goroutines run during a spin.
//
// A spin that goes on past a time check may hold up a goroutine of its
// own process: with GOMAXPROCS 1 the spinner's P is the only one, and
// the goroutine the spin waits for may be one of this process (a lock or
// a ring shared by two goroutines). runtime.Gosched lets it run. With
// more Ps a runnable goroutine runs on another P, and Gosched costs: it
// puts the spinner on the global run queue and wakes a parked runtime
// thread to look for work on an idle P (the runtime's wakep); the thread
// finds none, since the spinner is taken back at once, and parks again,
// a futex wake-up and a park per time check. Counted on a million 64-byte
// ring round trips between two processes: 7 480 runtime futex waits and
// 7 468 wakes with a Gosched at every check, 165 and 153 without.
//
// The locks' spin calls spinGosched: the semaphore ping-pong of `shm
// bench` took 285-363 ns with it against 382-452 ns before. The ring's
// spin keeps calling runtime.Gosched, which measured better there
// (BENCHMARKS.md §7, "Gosched only with one P").

// gosched is runtime.Gosched; a variable so that a test can count calls.
var gosched = runtime.Gosched

// spinGosched is the runtime.Gosched of a spin's time check, made only
// when the process has a single P (GOMAXPROCS 1). procs holds GOMAXPROCS
// for the length of one spin, 0 before the first call reads it: reading
// it takes the scheduler's lock, and a spin has many checks.
func spinGosched(procs *int) {
	if *procs == 0 {
		*procs = runtime.GOMAXPROCS(0)
	}
	if *procs == 1 {
		gosched()
	}
}
