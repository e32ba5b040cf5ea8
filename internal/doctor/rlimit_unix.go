//go:build unix

package doctor

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// hostRlimitNofile returns RLIMIT_NOFILE of this process.
func hostRlimitNofile() (soft, hard uint64, err error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, os.NewSyscallError("getrlimit", err)
	}
	return rlimValue(int64(rl.Cur)), rlimValue(int64(rl.Max)), nil
}

// rlimValue converts a platform rlimit to bytes-agnostic uint64, with
// RLIM_INFINITY (all ones, or the largest int64 on the BSDs) as
// [Unlimited].
func rlimValue(v int64) uint64 {
	if v < 0 || v == math.MaxInt64 {
		return Unlimited
	}
	return uint64(v)
}
