//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing where the OS has no parent-death signal; the
// demo's children are killed by their context's deadline instead.
func dieWithParent(*exec.Cmd) {}
