package kern

import (
	"testing"

	"golang.org/x/sys/unix"
)

// FreeBSD took its seal bits and rename flags from Linux; check the
// constants against Linux's values, which x/sys/unix defines.
func TestFreeBSDConstantsMatchLinux(t *testing.T) {
	checks := []struct {
		name      string
		got, want int
	}{
		{"SealSeal", SealSeal, unix.F_SEAL_SEAL},
		{"SealShrink", SealShrink, unix.F_SEAL_SHRINK},
		{"SealGrow", SealGrow, unix.F_SEAL_GROW},
		{"SealWrite", SealWrite, unix.F_SEAL_WRITE},
		{"RenameNoReplace", RenameNoReplace, unix.RENAME_NOREPLACE},
		{"RenameExchange", RenameExchange, unix.RENAME_EXCHANGE},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x as on Linux", c.name, c.got, c.want)
		}
	}
	// The fcntl commands are where the two systems differ; the doc of
	// FAddSeals says so.
	if FAddSeals == unix.F_ADD_SEALS || FGetSeals == unix.F_GET_SEALS {
		t.Errorf("FAddSeals/FGetSeals = %d/%d equal Linux's %d/%d", FAddSeals, FGetSeals, unix.F_ADD_SEALS, unix.F_GET_SEALS)
	}
}
