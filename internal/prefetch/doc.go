// Package prefetch asks the CPU to bring a cache line in for writing
// before the program writes it.
//
// A sender of the ring writes each message into lines that the receiver,
// on another CPU, last held: it read the previous lap's records there.
// Each store then waits for the line to come over, and the
// sender's next locked instruction (a compare-and-swap per message) waits
// for all of them, so at 64 bytes a message costs one line transfer in
// series. A prefetch for writing a few lines ahead starts those
// transfers while the sender is still busy with earlier messages.
//
// ForWrite is only a hint: it reads and writes nothing, never faults,
// and does nothing where the CPU has no such instruction or this package
// does not use it. Only amd64 uses it (PREFETCHW, on CPUs that report
// it), the one architecture where its effect was measured
// (BENCHMARKS.md §7, "Prefetching the sender's lines").
package prefetch
