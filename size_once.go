package shm

// sizeAtCreate reports whether Create on goos ftruncates a new object to
// size. darwin's xnu (bsd/kern/posix_shm.c, pshm_truncate) accepts one
// ftruncate per object and marks it allocated even for length 0, so later
// ftruncates fail with EINVAL: an object made with size 0 must be left
// unsized there, or it could never be given a size.
func sizeAtCreate(goos string, size int64) bool {
	return size > 0 || goos != "darwin"
}
