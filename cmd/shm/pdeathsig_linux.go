package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child get SIGKILL if this process dies, so that
// no demo child outlives a crashed demo.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
