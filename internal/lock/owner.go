package lock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
)

// A locker holds and probes exclusive per-token advisory locks that the
// kernel drops when the holding process dies.
type locker interface {
	// tryLock takes the lock of token; false if another holder has it.
	tryLock(token uint32) (bool, error)
	// held reports whether a holder other than this locker has token's lock.
	held(token uint32) (bool, error)
	unlock(token uint32) error
	close() error
	mechanism() string
}

// A FileOwner is an [Owner] whose token is backed by an advisory lock that
// the kernel releases when the process dies. Make it with [NewFileOwner]
// and Close it when the process stops using the shared object.
type FileOwner struct {
	mu      sync.Mutex
	lk      locker
	token   uint32
	closed  bool
	watches map[uint32]*tokenWatch // references to the watches its waiters use
}

// fileKey identifies a file (device and inode) for the process-wide
// registries.
type fileKey struct{ dev, ino uint64 }

var _ Owner = (*FileOwner)(nil)

// Token returns this owner's token.
func (o *FileOwner) Token() uint32 { return o.token }

// Mechanism names how the token lock is held: "ofd" (Linux open file
// description lock on the object), "fcntl" (classic per-process POSIX
// lock on the object) or "flock" (a lock file per token in a directory).
func (o *FileOwner) Mechanism() string { return o.lk.mechanism() }

// Alive reports whether the holder of token still holds its token lock.
// Its own token is alive until Close.
func (o *FileOwner) Alive(token uint32) (bool, error) {
	if token == 0 || token > MaxToken {
		return false, fmt.Errorf("shm: owner token %#x is outside [1, %#x]", token, MaxToken)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false, errOwnerClosed
	}
	if token == o.token {
		return true, nil
	}
	return o.lk.held(token)
}

var errOwnerClosed = errors.New("shm: mutex owner is closed")

// A Probe tells whether owner tokens are alive without holding one: a
// reader that must not register in the object (it may have it open
// read-only). Make it with [NewProbe].
type Probe struct {
	mu     sync.Mutex
	lk     locker
	closed bool
}

// Alive reports whether the holder of token still holds its token lock.
// With the classic (fcntl) mechanism the tokens of this process's owners
// are seen through the process's registry; with flock those of its
// owners in the same directory.
func (p *Probe) Alive(token uint32) (bool, error) {
	if token == 0 || token > MaxToken {
		return false, fmt.Errorf("shm: owner token %#x is outside [1, %#x]", token, MaxToken)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false, errOwnerClosed
	}
	return p.lk.held(token)
}

// Close releases the probe's descriptors. It is idempotent.
func (p *Probe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.lk.close()
}

// Close releases the token lock: to other processes this owner is then
// dead, so it must not hold any mutex. It also lets go of the watches its
// waiters used; the last owner of the process to use a watch stops it.
// Close is idempotent.
func (o *FileOwner) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	for t, w := range o.watches {
		releaseWatch(w)
		delete(o.watches, t)
	}
	err := o.lk.unlock(o.token)
	if cerr := o.lk.close(); err == nil {
		err = cerr
	}
	return err
}

// tokenTries bounds the random draws for a free token.
const tokenTries = 64

// newFileOwner draws random tokens until lk can lock one.
func newFileOwner(lk locker) (*FileOwner, error) {
	for range tokenTries {
		t := rand.Uint32() & tokenMask
		if t == 0 {
			continue
		}
		ok, err := lk.tryLock(t)
		if err != nil {
			return nil, err
		}
		if ok {
			return &FileOwner{lk: lk, token: t}, nil
		}
	}
	return nil, fmt.Errorf("shm: no free owner token after %d tries", tokenTries)
}
