package shm

import "unsafe"

// The ring's hold on its mapping. The handle keeps an offset, never a
// pointer into the memory, and reaches the memory in one of two ways:
//
//   - Operations admitted by one of the handle's gates (Send, TrySend,
//     Reserve's claim, Receive, TryReceive, Peek, Release, CloseSend) take
//     no hold on the mapping's region: the mapping closes every ring
//     registered with it (Mapping.Close, closeRings) before it closes the
//     region, and Ring.Close kicks the wake words and then takes both
//     gates, so it returns only once no admitted operation is left. Those
//     operations check the closed flag after taking their gate; sleeping,
//     they register the word with WakeOnClose as well. Two atomic
//     operations per call saved, on the ring's per-message path.
//   - The others (Commit, Abort, Stats, Close's own work) hold the
//     Mapping's operation hold, between holdRing and releaseRing, as the
//     locks do (see hold.go and internal/region).

// holdRing enters the hold and returns the address of the ring's first
// byte; false once the mapping is closing.
func (r *Ring) holdRing() (unsafe.Pointer, bool) {
	base, err := r.reg.Acquire()
	if err != nil {
		return nil, false
	}
	return unsafe.Add(base, r.off), true
}

// releaseRing leaves the hold entered by a holdRing that returned true.
func (r *Ring) releaseRing() { r.reg.Release() }

// gatedView returns the ring's memory for an operation admitted by one of
// the handle's gates, which holds no region hold (see above); false once
// the handle is closed.
func (r *Ring) gatedView() (ringMem, bool) {
	if r.closed.Load() {
		return ringMem{}, false
	}
	return r.view(unsafe.Add(r.reg.Base(), r.off)), true
}
