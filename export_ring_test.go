package shm

import "context"

// RingClaimOnly claims room for an n-byte message as Send does and stops
// there, as a sender killed between the claim and the header would.
// Tests only.
func RingClaimOnly(r *Ring, n int) error {
	v, err := r.enterSend(context.Background(), "test claim")
	if err != nil {
		return err
	}
	defer v.leaveSend()
	_, _, err = v.claimWait(context.Background(), "test claim", uint64(n), true)
	return err
}
