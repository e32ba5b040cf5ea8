// Package sockpair makes the connected Unix socket pairs and pipes that
// the shm command and the tests hand to child processes: blocking, and
// close-on-exec from the start, even where the system has neither
// SOCK_CLOEXEC nor pipe2 (darwin). It builds on Unix systems only.
package sockpair
