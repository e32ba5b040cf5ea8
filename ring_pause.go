package shm

import "time"

// A sender of small messages that finds the ring full pauses between its
// looks while it spins, and does not touch the ring while it pauses.
//
// Room comes back in batches: the receiver retires what it consumed every
// ringRetireBatch bytes (ring_retire.go), a few microseconds of its work
// at small messages. A look for room reads the head's cache line, which
// also holds the word the receiver stores its position in at every
// message (next). A sender that looked back to back pulled that line away
// at each of the receiver's stores, so the receiver, the side that frees
// the room, ran slower for it. Measured (BENCHMARKS §7, "Pausing for
// room"), a 1 KiB stream between two processes in alternating runs:
// 9.2-10.0 M msg/s looking back to back, 11.9-12.6 M in four of five runs
// with pauses from 2 µs; pauses from 0.5 µs showed little of the gain
// (medians 10.2 M against 10.0 M).
//
// The pause doubles from ringPauseMin up to ringPauseMax at each look that
// finds no room. Only a sender of a record of at most ringRetireBatch
// bytes, on a ring of at least ringPauseRing bytes, pauses:
//   - a larger message waits for the receiver to finish a message of its
//     own size, and the receiver stores its position once for it: looks
//     back to back take the line from it once per message, and a pause
//     would only delay the sender (the 64 KiB and 1 MiB streams, the
//     pieces of shm.Conn);
//   - a smaller ring holds too little for the receiver to stay busy
//     through a pause.
//
// The receiver does not pause: it spins on a record header that a sender
// writes once.
const (
	ringPauseMin  = 2 * time.Microsecond
	ringPauseMax  = 4 * time.Microsecond
	ringPauseRing = 64 << 10
)

// fullPause returns the first pause of a sender of an n-byte message that
// spins for room on a ring whose data area holds capacity bytes: 0 when
// it does not pause.
func fullPause(n, capacity uint64) time.Duration {
	if recordSize(n) > ringRetireBatch || capacity < ringPauseRing {
		return 0
	}
	return ringPauseMin
}

// ringLookHook, when set (by tests only), runs before each look of a
// spinning wait.
var ringLookHook func()

// ringPause waits for d without touching shared memory.
func ringPause(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
