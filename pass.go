package shm

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Passing objects between processes.
//
// An object reaches another process in one of two ways, both without a
// name:
//   - across exec: [Pass] adds the descriptor to an [os/exec.Cmd]'s
//     ExtraFiles and sets one environment variable, SHM_FD_<name>, to the
//     descriptor number the child sees; in the child, [Inherited] finds it.
//     A child written in another language reads the same variable: its
//     value is a decimal descriptor number (3 for the first ExtraFiles
//     entry), and the descriptor is an ordinary shm fd to fstat and mmap.
//   - over a Unix socket: [Send] and [Receive] carry descriptors as
//     SCM_RIGHTS ancillary data, with a 5-byte header ("SHM1" and the
//     count) so that a receiver can tell a shm message from stray bytes.
//
// On windows [Pass] passes the section handle by inheritance instead and
// SHM_FD_<name> holds the handle's value. A Windows socket carries no
// handles, so there [Send] writes the handles' values and its process id
// (internal/handoff's offer) and [Receive] duplicates them out of the
// sender's process itself, then replies (send_windows.go).

// EnvPrefix is the prefix of the environment variables that [Pass] sets
// and [Inherited] reads: SHM_FD_<name>=<descriptor number>.
const EnvPrefix = "SHM_FD_"

// MaxSend is the largest number of objects one [Send] carries.
const MaxSend = 64

// sendMagic starts every message Send writes.
const sendMagic = "SHM1"

// envName returns the environment variable for name, or an error if name
// is not 1 to 64 characters of [A-Za-z0-9_].
func envName(name string) (string, error) {
	if name == "" || len(name) > 64 {
		return "", fmt.Errorf("shm: pass name %q must be 1 to 64 characters", name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "", fmt.Errorf("shm: pass name %q may only hold letters, digits and '_'", name)
		}
	}
	return EnvPrefix + name, nil
}

// withoutEnv returns env without entries for key.
func withoutEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// withoutPassed returns env without the SHM_FD_ variables whose value drop
// reports.
func withoutPassed(env []string, drop func(val string) bool) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) && drop(v) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// passKey checks Pass's arguments, the same on every system, and returns
// the variable that carries the object to the child.
func passKey(cmd *exec.Cmd, name string, o *Object) (string, error) {
	key, err := envName(name)
	if err != nil {
		return "", err
	}
	if cmd == nil || o == nil {
		return "", errors.New("shm: Pass: nil command or object")
	}
	if cmd.Process != nil {
		return "", errors.New("shm: Pass: command already started")
	}
	return key, nil
}
