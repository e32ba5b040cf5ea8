package shm

import (
	"os"
)

// Sleepers returns how many lock operations of m are in their slow path
// with a word registered for Close to wake (asleep in the kernel or about
// to be). Tests only.
func Sleepers(m *Mapping) int {
	m.mu.RLock()
	r := m.reg
	m.mu.RUnlock()
	if r == nil {
		return 0
	}
	return r.Sleepers()
}

// The environment variables through which a test passes what it forces to
// the children it re-executes (and `go test` runs get from the person
// running them); the test binary's TestMain applies them with
// ApplyTestEnv. Production code reads none of them: what an operator may
// force goes through SHMDEBUG (internal/shmdebug).
const (
	// TestAnonEnv forces CreateAnon's route on Linux: memfd, tmpfile,
	// random, or another system's file dialect rooted in /dev/shm
	// (openbsd, netbsd, dragonfly, solaris).
	TestAnonEnv = "SHM_TEST_ANON"
	// TestPopulateEnv=mmap forces the MAP_POPULATE route of Populate
	// (Linux); TestPopulateEnv=parallel makes Populate split mappings of
	// 128 KiB or more between goroutines (see ForcePopulateParallel).
	TestPopulateEnv = "SHM_TEST_POPULATE"
	// TestOwnerDirEnv is the directory of flock owners' token files.
	TestOwnerDirEnv = "SHM_TEST_OWNER_DIR"
)

// testEnvHooks are the per-OS parts of ApplyTestEnv.
var testEnvHooks []func()

// ApplyTestEnv sets the test seams from the environment variables above.
// TestMain calls it first, in the test process and in every child.
func ApplyTestEnv() {
	if v := os.Getenv(TestAnonEnv); v != "" {
		anonRoute = v
	}
	for _, f := range testEnvHooks {
		f()
	}
}
