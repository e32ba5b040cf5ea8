// Package handoff holds the frames of the hand-off by which shm's Send
// and Receive pass section handles on windows, where a socket carries no
// handles (there is no SCM_RIGHTS). The sender writes an [Offer]: its
// process id and, for each object, the value of its section handle and
// the section's size. The receiver duplicates each handle out of the
// sender's process itself (DuplicateHandle with PROCESS_DUP_HANDLE),
// checks it, and answers with a reply: empty when it took them all, or
// the reason it refused. The sender keeps its handles open until the
// reply arrives.
//
// The frames are plain bytes over any byte stream, so this package is
// the same on every system; only the windows side of shm uses it, and
// its fuzz test runs everywhere.
//
// An offer, little-endian:
//
//	0   "SHMo"      magic
//	4   version     1
//	5   count       1 to the receiver's limit
//	6   0, 0        reserved, zero
//	8   pid         uint32, the sender's process id, not 0
//	12  count times {handle uint64, size uint64}
//
// A handle value is below 1<<32 and not 0 (so no pseudo-handle such as
// -1, the current process, can be named), and a size is 1 to [MaxSize].
//
// A reply:
//
//	0   "SHMr"      magic
//	4   version     1
//	5   0           reserved
//	6   n           uint16, length of the reason, at most [MaxReason]; 0 = accepted
//	8   n bytes     the reason the receiver refused, UTF-8
package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Version is the version of the frames this package writes and reads.
const Version = 1

const (
	offerMagic = "SHMo"
	replyMagic = "SHMr"
	offerHead  = 12 // bytes of an offer before its entries
	entrySize  = 16 // bytes of one entry
	replyHead  = 8  // bytes of a reply before its reason
)

// MaxReason is the longest reason a reply carries; a longer one is cut.
const MaxReason = 1024

// MaxSize is the largest section size an offer may state.
const MaxSize = 1 << 62

// ErrFrame is wrapped by every error about a malformed frame.
var ErrFrame = errors.New("malformed hand-off frame")

// An Entry is one object of an offer.
type Entry struct {
	Handle uint64 // the section handle's value in the sender's process
	Size   int64  // the section's size in bytes
}

// An Offer is what the sender writes: its process id and its objects.
type Offer struct {
	PID     uint32
	Entries []Entry
}

// check reports the first thing wrong with o for a receiver that takes at
// most limit entries.
func (o *Offer) check(limit int) error {
	if len(o.Entries) == 0 || len(o.Entries) > limit {
		return fmt.Errorf("%w: offer of %d objects; 1 to %d may go in one", ErrFrame, len(o.Entries), limit)
	}
	if o.PID == 0 {
		return fmt.Errorf("%w: offer names process id 0", ErrFrame)
	}
	for i, e := range o.Entries {
		if e.Handle == 0 || e.Handle >= 1<<32 {
			return fmt.Errorf("%w: object %d of %d: handle value %#x is not a handle of another process (0, or a pseudo-handle)", ErrFrame, i+1, len(o.Entries), e.Handle)
		}
		if e.Size <= 0 || e.Size > MaxSize {
			return fmt.Errorf("%w: object %d of %d: size %d is not 1 to %d", ErrFrame, i+1, len(o.Entries), e.Size, int64(MaxSize))
		}
	}
	return nil
}

// AppendOffer appends the frame of o to b. It fails if o is not an offer
// that a receiver taking up to 255 objects would accept.
func AppendOffer(b []byte, o Offer) ([]byte, error) {
	if err := o.check(255); err != nil {
		return b, err
	}
	b = append(b, offerMagic...)
	b = append(b, Version, byte(len(o.Entries)), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, o.PID)
	for _, e := range o.Entries {
		b = binary.LittleEndian.AppendUint64(b, e.Handle)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Size))
	}
	return b, nil
}

// ReadOffer reads one offer from r for a receiver that takes at most limit
// objects (1 to 255). It returns io.EOF itself if r ended before the
// first byte, an error wrapping io.ErrUnexpectedEOF if it ended within
// the frame, and an error wrapping [ErrFrame] if the frame is malformed;
// it reads no byte past the frame, and none past the header of a frame
// whose header is malformed.
func ReadOffer(r io.Reader, limit int) (Offer, error) {
	limit = min(max(limit, 1), 255)
	var head [offerHead]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		if n == 0 && err == io.EOF {
			return Offer{}, io.EOF
		}
		return Offer{}, fmt.Errorf("offer truncated: %d of its %d header bytes came: %w", n, offerHead, io.ErrUnexpectedEOF)
	}
	if string(head[:4]) != offerMagic {
		return Offer{}, fmt.Errorf("%w: starts %q, not %q: not a shm hand-off", ErrFrame, head[:4], offerMagic)
	}
	if head[4] != Version {
		return Offer{}, fmt.Errorf("%w: offer of version %d; this side speaks version %d", ErrFrame, head[4], Version)
	}
	if head[6] != 0 || head[7] != 0 {
		return Offer{}, fmt.Errorf("%w: reserved bytes of the offer are %#x %#x, not zero", ErrFrame, head[6], head[7])
	}
	count := int(head[5])
	if count == 0 || count > limit {
		return Offer{}, fmt.Errorf("%w: offer of %d objects; 1 to %d may go in one", ErrFrame, count, limit)
	}
	o := Offer{PID: binary.LittleEndian.Uint32(head[8:]), Entries: make([]Entry, count)}
	body := make([]byte, count*entrySize)
	if n, err := io.ReadFull(r, body); err != nil {
		return Offer{}, fmt.Errorf("offer truncated: %d of the %d bytes of its %d objects came: %w", n, len(body), count, io.ErrUnexpectedEOF)
	}
	for i := range o.Entries {
		e := body[i*entrySize:]
		o.Entries[i] = Entry{Handle: binary.LittleEndian.Uint64(e), Size: int64(binary.LittleEndian.Uint64(e[8:]))}
	}
	if err := o.check(limit); err != nil {
		return Offer{}, err
	}
	return o, nil
}

// AppendReply appends a reply to b: an acceptance if reason is empty,
// else a refusal giving reason (cut to [MaxReason] bytes on a rune
// boundary).
func AppendReply(b []byte, reason string) []byte {
	if len(reason) > MaxReason {
		cut := MaxReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b = append(b, replyMagic...)
	b = append(b, Version, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(reason)))
	return append(b, reason...)
}

// ReadReply reads one reply from r. It returns the receiver's reason if
// it refused ("" if it accepted), or an error if r ended or the frame is
// malformed.
func ReadReply(r io.Reader) (refusal string, err error) {
	var head [replyHead]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		if n == 0 && err == io.EOF {
			return "", fmt.Errorf("the receiver closed the connection without replying: %w", io.EOF)
		}
		return "", fmt.Errorf("reply truncated: %d of its %d header bytes came: %w", n, replyHead, io.ErrUnexpectedEOF)
	}
	if string(head[:4]) != replyMagic {
		return "", fmt.Errorf("%w: reply starts %q, not %q", ErrFrame, head[:4], replyMagic)
	}
	if head[4] != Version {
		return "", fmt.Errorf("%w: reply of version %d; this side speaks version %d", ErrFrame, head[4], Version)
	}
	if head[5] != 0 {
		return "", fmt.Errorf("%w: reserved byte of the reply is %#x, not zero", ErrFrame, head[5])
	}
	n := int(binary.LittleEndian.Uint16(head[6:]))
	if n > MaxReason {
		return "", fmt.Errorf("%w: reply announces a %d-byte reason; at most %d", ErrFrame, n, MaxReason)
	}
	if n == 0 {
		return "", nil
	}
	reason := make([]byte, n)
	if got, err := io.ReadFull(r, reason); err != nil {
		return "", fmt.Errorf("reply truncated: %d of its %d-byte reason came: %w", got, n, io.ErrUnexpectedEOF)
	}
	if !utf8.Valid(reason) {
		return "", fmt.Errorf("%w: the reply's reason is not UTF-8", ErrFrame)
	}
	return string(reason), nil
}
