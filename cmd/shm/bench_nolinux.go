//go:build !linux

package main

// rawAnonSteps has no peer outside Linux: the raw routes there are libc
// calls or several system calls that shm makes the same way.
func rawAnonSteps() []rawStep { return nil }
