//go:build race

package shm_test

// raceEnabled: the race detector slows child processes down; the longest
// process tests do fewer rounds under it.
const raceEnabled = true
