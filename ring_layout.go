package shm

import (
	"math"
	"math/bits"
)

// The layout of a ring in bytes [off, off+n) of a mapping. Every word is
// a fixed-width integer in the machine's native byte order (processes
// that share memory share the CPU), at a fixed offset from off; off must
// be a multiple of 8, so every 64-bit word is 8-byte aligned (which the
// 64-bit atomics of 32-bit systems require). All zero bytes are an empty
// ring: the first process to attach writes the magic word, n and the
// stamp key with compare-and-swap, and every later one checks them.
//
//	off+0     magic<<32 | version      (uint64; 0 until the first attach)
//	off+8     n, the ring's total size (uint64; a different n is refused)
//	off+16    flags                    (uint32: a sender / receiver attached once)
//	off+24    lost                     (uint64: records skipped after their sender died)
//	off+32    stamp key                (uint64: random and odd, set at the first attach)
//	off+40    exclusive sender         (uint32: owner token of the handle that sends alone, 0 for none; ring_exclusive.go)
//	off+64    tail                     (uint64: byte position of the next claim)
//	off+128   head                     (uint64: the room before it is free for senders)
//	off+136   next                     (uint64: the receiver has consumed everything before it)
//	off+144   retire word              (uint32: owner token of the party moving the head to next, 0 for none)
//	off+192   receiver wake word       (uint32: bit 0 "receiver sleeps", the rest a sequence)
//	off+256   sender wake word         (uint32: bit 0 "a sender sleeps", the rest a sequence)
//	off+320   receiver slot            (uint32: owner token of the live receiver, 0 for none)
//	off+512   56 sender slots of 64 bytes:
//	            +0  owner token (uint32, 0 for a free slot)
//	            +8  intent position (uint64: the tail value this sender is claiming)
//	            +16 intent length (uint64: the bytes it claims there)
//	off+4096  data: capacity bytes, capacity the largest power of two <= n-4096
//
// Positions (head, tail, intent) count bytes from the ring's creation and
// never wrap; a position's index in the data area is position mod
// capacity. Each line written by one party sits on a cache line of its
// own.
//
// The data area holds records aligned to 16 bytes: a 16-byte header, then
// the payload. The header's first word is
//
//	bits 0-31   payload length (a padding record: its whole size)
//	bits 32-61  owner token of the sender that claimed it
//	bit 62      committed
//	bit 63      padding (skip it)
//
// and its second word the stamp: the record's position XOR the ring's
// stamp key. A header counts only when its stamp matches its position:
// the receiver finds there, before the sender writes, whatever an earlier
// lap left (a record's bytes, or nothing for a fresh ring), and the
// stamp of an earlier lap's header names another position. Consumed
// bytes therefore need no clearing: the receiver clears only the stamps
// of the records it retires, a word per record (ring_clear.go), and a
// large message's lines leave the sender's CPU only for the receiver's
// reads. The key makes a payload that happens to hold a position's stamp
// as unlikely as a random 64-bit match, whatever the payloads are (a dump
// of another ring's memory, say); it is odd, so no stamp is zero, the
// content of a fresh ring.
//
// A record never wraps: a sender that would cross the end claims the rest
// of the area as a padding record in the same step.
const (
	ringMagic   = 0x52494E47 // "RING"
	ringVersion = 5          // 5: the exclusive sender word; 4: stamped 16-byte headers, nothing zeroed; 3: amd64 senders publish with a plain store, receivers keep a grace (ring_publish.go); 2: the next and retire words (ring_retire.go); 1 zeroed before moving the head

	ringOffMagic   = 0
	ringOffSize    = 8
	ringOffFlags   = 16
	ringOffLost    = 24
	ringOffKey     = 32
	ringOffExcl    = 40
	ringOffTail    = 64
	ringOffHead    = 128
	ringOffNext    = 136
	ringOffRetire  = 144
	ringOffRxWake  = 192
	ringOffTxWake  = 256
	ringOffRxSlot  = 320
	ringOffSenders = 512
	ringSlotSize   = 64
	ringSenders    = (ringHeaderSize - ringOffSenders) / ringSlotSize

	ringSlotToken     = 0
	ringSlotIntentPos = 8
	ringSlotIntentLen = 16

	// ringHeaderSize is the size of the header before the data area.
	ringHeaderSize = 4096
	// ringMinCapacity is the smallest data area.
	ringMinCapacity = 256
	// ringRecordHeader is the size of a record header: the header word
	// and the stamp.
	ringRecordHeader = 16
	// recAlign is the alignment of records, and so of every position.
	recAlign = 16
	// ringMaxPayload bounds a message whatever the capacity: the length
	// field is 32 bits.
	ringMaxPayload = 1 << 30

	flagSenderSeen   = 1 << 0
	flagReceiverSeen = 1 << 1

	recCommitted = 1 << 62
	recPadding   = 1 << 63
	recTokenMask = 1<<30 - 1
	recLenMask   = 1<<32 - 1
)

// ringMagicWord is the first word of an attached ring.
const ringMagicWord = uint64(ringMagic)<<32 | ringVersion

// RingSize returns the number of bytes [Mapping.Ring] needs for a ring
// that holds at least slots messages of maxMessage bytes at once (and so
// accepts messages of up to maxMessage bytes): a 4096-byte header and a
// data area of a power of two bytes, at least two records. It returns 0
// when maxMessage is negative or over 1 GiB, slots is less than 1, or the
// size would overflow an int.
func RingSize(maxMessage, slots int) int {
	if maxMessage < 0 || maxMessage > ringMaxPayload-ringRecordHeader || slots < 1 {
		return 0
	}
	rec := recordSize(uint64(maxMessage))
	slots = max(slots, 2)
	if rec > math.MaxInt64/uint64(slots) {
		return 0
	}
	need := max(rec*uint64(slots), ringMinCapacity)
	c := uint64(1) << bits.Len64(need-1)
	if c > math.MaxInt-ringHeaderSize || c == 0 {
		return 0
	}
	return ringHeaderSize + int(c)
}

// recordSize is the size in the data area of a record with n payload
// bytes.
func recordSize(n uint64) uint64 { return (ringRecordHeader + n + recAlign - 1) &^ (recAlign - 1) }

// ringCapacity returns the data area of a ring of n bytes, 0 if n is too
// small.
func ringCapacity(n int) uint64 {
	if n < ringHeaderSize+ringMinCapacity {
		return 0
	}
	c := uint64(1) << (bits.Len64(uint64(n-ringHeaderSize)) - 1)
	return min(c, 1<<62)
}

// ringMaxMessage is the largest message of a ring with data capacity c:
// a record of at most half the area always fits once the ring drains.
func ringMaxMessage(c uint64) uint64 {
	return min(c/2-ringRecordHeader, ringMaxPayload-ringRecordHeader)
}

// Record header encoding.
func recHeader(n uint64, token uint32, flags uint64) uint64 {
	return n&recLenMask | uint64(token&recTokenMask)<<32 | flags
}
func recLen(h uint64) uint64   { return h & recLenMask }
func recToken(h uint64) uint32 { return uint32(h>>32) & recTokenMask }
