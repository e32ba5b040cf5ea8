//go:build openbsd || dragonfly || solaris

package shm

// createAnon: these systems have no nameless shared memory; a random name
// is created and unlinked at once.
func createAnon(size int64) (*Object, error) { return createAnonFile(size) }
