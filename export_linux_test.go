package shm

import (
	"os"

	"github.com/shmkit/shm/internal/dialect"
	"github.com/shmkit/shm/internal/lock"
)

// UseDialect makes named objects follow goos's libc rules rooted in dir,
// until the returned function is called. Tests only.
func UseDialect(goos, dir string) (restore func(), err error) {
	d, err := dialect.ForOS(goos)
	if err != nil {
		return nil, err
	}
	prev := dialect.TestHost()
	dialect.SetTestHost(d.Rooted(dir))
	return func() { dialect.SetTestHost(prev) }, nil
}

// SetReceiveRoom makes Receive keep room for only n descriptors, until the
// returned function is called. Tests only.
func SetReceiveRoom(n int) (restore func()) {
	prev := receiveFDs
	receiveFDs = n
	return func() { receiveFDs = prev }
}

// LockKeptDescriptors returns how many descriptors the lock registry keeps
// open because closing them would drop classic locks. Tests only.
func LockKeptDescriptors() int { return lock.KeptDescriptors() }

// GrowByWriting grows f's object to to bytes by writing zeros, the route
// of the systems without fallocate. Tests only.
func GrowByWriting(f *os.File, to int64) error {
	return growByWriting(int(f.Fd()), to)
}

func init() {
	testEnvHooks = append(testEnvHooks, func() {
		switch os.Getenv(TestPopulateEnv) {
		case "mmap":
			populateMmap = true
		case "parallel":
			ForcePopulateParallel()
		}
	})
}

// PopulateChunks returns how many goroutines Map with Populate prefaults
// a mapping of length bytes on. Tests only.
func PopulateChunks(length int64) int { return populateChunks(length) }

// ForcePopulateParallel makes Populate split every mapping of 128 KiB or
// more between goroutines (up to GOMAXPROCS), until the returned function
// is called. Tests only.
func ForcePopulateParallel() (restore func()) {
	prev := populateChunkMin
	populateChunkMin = 64 << 10
	return func() { populateChunkMin = prev }
}
