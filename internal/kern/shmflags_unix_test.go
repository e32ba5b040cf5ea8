//go:build unix

package kern

import (
	"syscall"
	"testing"
)

// shmModel is the part of FreeBSD's kern_shm_open2 (sys/kern/uipc_shm.c)
// that decides what opening an existing object by name does to it.
type shmModel struct {
	flags, seals int
	largePages   bool // PMAP_HAS_LARGEPAGES
}

func (m *shmModel) open(shmflags int) (int, error) {
	if shmflags&^(ShmAllowSealing|ShmGrowOnWrite|ShmLargePage) != 0 {
		return -1, syscall.EINVAL
	}
	if shmflags&ShmLargePage != 0 && !m.largePages {
		return -1, syscall.ENOTTY
	}
	initial := SealSeal
	if shmflags&ShmAllowSealing != 0 {
		initial = 0
	}
	initial &^= m.seals
	switch {
	case m.seals&SealSeal != 0 && initial != 0:
		return -1, syscall.EPERM
	case shmflags != 0 && shmflags != m.flags:
		return -1, syscall.EINVAL
	}
	m.seals |= initial
	return 3, nil
}

// TestOpenShmflagsKeepSeals: whatever flags an existing object was created
// with, and whatever seals it has, opening it leaves its seals alone,
// where libc's shmflags 0 would add F_SEAL_SEAL.
func TestOpenShmflagsKeepSeals(t *testing.T) {
	sealedByZero := 0
	for flags := range 8 {
		for _, large := range []bool{false, true} {
			if flags&ShmLargePage != 0 && !large {
				continue // cannot have been created here
			}
			for _, seals := range []int{0, SealShrink | SealGrow, SealSeal, SealSeal | SealWrite} {
				if flags&ShmAllowSealing == 0 && seals&SealSeal == 0 {
					continue // created without SHM_ALLOW_SEALING: F_SEAL_SEAL from the start
				}
				m := &shmModel{flags: flags, seals: seals, largePages: large}
				if _, err := openEachShmflags(m.open); err != nil {
					t.Errorf("object with flags %#x, seals %#x, large pages %v: open: %v", flags, seals, large, err)
				}
				if m.seals != seals {
					t.Errorf("object with flags %#x, seals %#x, large pages %v: seals became %#x", flags, seals, large, m.seals)
				}
				libc := &shmModel{flags: flags, seals: seals, largePages: large}
				if _, err := libc.open(0); err == nil && libc.seals != seals {
					sealedByZero++
				}
			}
		}
	}
	if sealedByZero == 0 {
		t.Error("the model never seals with shmflags 0: it does not match uipc_shm.c")
	}
	// A missing name is not retried with other flags.
	calls := 0
	_, err := openEachShmflags(func(int) (int, error) { calls++; return -1, syscall.ENOENT })
	if err != syscall.ENOENT || calls != 1 {
		t.Errorf("missing object: %v after %d calls, want ENOENT after 1", err, calls)
	}
	// A new object gets SHM_ALLOW_SEALING.
	if OpenShmflags[0] != ShmAllowSealing {
		t.Errorf("OpenShmflags[0] = %#x, want ShmAllowSealing: new objects would refuse seals", OpenShmflags[0])
	}
}
