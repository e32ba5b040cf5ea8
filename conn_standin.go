package shm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmkit/shm/internal/futex"
)

// standinRing is a single-producer, single-consumer message ring used by
// Conn until shm.Ring is there. Layout of its n bytes (n a multiple of 8,
// offset 8-aligned), native byte order for the words:
//
//	0   head     uint64  consumer position (bytes consumed, ever)
//	8   spaceSeq uint32  bumped by the consumer after each release (futex)
//	64  tail     uint64  producer position (bytes committed, ever)
//	72  dataSeq  uint32  bumped by the producer after each commit (futex)
//	76  closed   uint32  1 once the producer closed
//	128 data     n-128 bytes of records: [len uint32][0 uint32][payload, padded to 8]
//
// A record never wraps: len == standinPad fills the rest of the data area.
// Every word read from the memory is validated before use.
type standinRing struct {
	head, tail        *uint64
	spaceSeq, dataSeq *uint32
	closed            *uint32
	data              []byte
	max               int
	pending           uint64 // bytes of the peeked record, to release
}

const (
	standinHeader = 128
	standinPad    = 0xFFFFFFFF
)

var errStandinCorrupt = errors.New("shm: corrupt connection ring")

func newStandinRing(mem []byte) (*standinRing, error) {
	if len(mem) < standinHeader+1024 || len(mem)%8 != 0 || uintptr(unsafe.Pointer(&mem[0]))%8 != 0 {
		return nil, fmt.Errorf("shm: ring of %d bytes: need a multiple of 8 of at least %d, 8-aligned", len(mem), standinHeader+1024)
	}
	p := unsafe.Pointer(&mem[0])
	r := &standinRing{
		head:     (*uint64)(p),
		spaceSeq: (*uint32)(unsafe.Add(p, 8)),
		tail:     (*uint64)(unsafe.Add(p, 64)),
		dataSeq:  (*uint32)(unsafe.Add(p, 72)),
		closed:   (*uint32)(unsafe.Add(p, 76)),
		data:     mem[standinHeader:],
	}
	r.max = len(r.data)/2 - 8
	return r, nil
}

func (r *standinRing) maxMessage() int { return r.max }

func (r *standinRing) capacity() uint64 { return uint64(len(r.data)) }

// positions reads and checks head and tail.
func (r *standinRing) positions() (head, tail uint64, err error) {
	head = atomic.LoadUint64(r.head)
	tail = atomic.LoadUint64(r.tail)
	if tail < head || tail-head > r.capacity() || head%8 != 0 || tail%8 != 0 {
		return 0, 0, errStandinCorrupt
	}
	return head, tail, nil
}

// wait sleeps on seq while it holds val, until woken or ctx is done.
func wait(ctx context.Context, seq *uint32, val uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		atomic.AddUint32(seq, 1)
		futex.Wake(seq, 0)
	})
	defer stop()
	if err := futex.Wait(seq, val, time.Time{}); err != nil {
		return err
	}
	return ctx.Err()
}

func (r *standinRing) send(ctx context.Context, p []byte) error {
	if len(p) > r.max {
		return fmt.Errorf("shm: message of %d bytes exceeds the ring's %d", len(p), r.max)
	}
	need := 8 + (uint64(len(p))+7)&^7
	for {
		seq := atomic.LoadUint32(r.spaceSeq)
		head, tail, err := r.positions()
		if err != nil {
			return err
		}
		if atomic.LoadUint32(r.closed) != 0 {
			return errors.New("shm: send on a closed ring")
		}
		free := r.capacity() - (tail - head)
		pos := tail % r.capacity()
		if room := r.capacity() - pos; room < need {
			if free >= room+need {
				binary.NativeEndian.PutUint32(r.data[pos:], 0)
				atomic.StoreUint32((*uint32)(unsafe.Pointer(&r.data[pos])), standinPad)
				atomic.StoreUint64(r.tail, tail+room)
				continue
			}
		} else if free >= need {
			copy(r.data[pos+8:], p)
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&r.data[pos])), uint32(len(p)))
			atomic.StoreUint64(r.tail, tail+need)
			atomic.AddUint32(r.dataSeq, 1)
			futex.Wake(r.dataSeq, 0)
			return nil
		}
		if err := wait(ctx, r.spaceSeq, seq); err != nil {
			return err
		}
	}
}

func (r *standinRing) closeSend() error {
	atomic.StoreUint32(r.closed, 1)
	atomic.AddUint32(r.dataSeq, 1)
	futex.Wake(r.dataSeq, 0)
	return nil
}

func (r *standinRing) tryPeek() ([]byte, error) {
	for range 2 { // at most one padding record before a message
		closed := atomic.LoadUint32(r.closed) != 0
		head, tail, err := r.positions()
		if err != nil {
			return nil, err
		}
		if head == tail {
			if closed {
				return nil, io.EOF
			}
			return nil, nil
		}
		pos := head % r.capacity()
		n := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[pos])))
		if n == standinPad {
			room := r.capacity() - pos
			if tail-head < room {
				return nil, errStandinCorrupt
			}
			atomic.StoreUint64(r.head, head+room)
			continue
		}
		need := 8 + (uint64(n)+7)&^7
		if uint64(n) > uint64(r.max) || need > tail-head || pos+need > r.capacity() {
			return nil, errStandinCorrupt
		}
		r.pending = need
		return r.data[pos+8 : pos+8+uint64(n) : pos+8+uint64(n)], nil
	}
	return nil, errStandinCorrupt
}

func (r *standinRing) peek(ctx context.Context) ([]byte, error) {
	for {
		seq := atomic.LoadUint32(r.dataSeq)
		msg, err := r.tryPeek()
		if err != nil || msg != nil {
			return msg, err
		}
		if err := wait(ctx, r.dataSeq, seq); err != nil {
			return nil, err
		}
	}
}

func (r *standinRing) release() error {
	if r.pending == 0 {
		return nil
	}
	atomic.AddUint64(r.head, r.pending)
	r.pending = 0
	atomic.AddUint32(r.spaceSeq, 1)
	futex.Wake(r.spaceSeq, 0)
	return nil
}
