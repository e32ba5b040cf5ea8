package wine

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: .ci/wine sets SHM_TEST_EMULATOR to `wine --version`
// ("wine-8.0 (Debian 8.0~repack-4)"); Version must find wine exactly then.
func TestVersion(t *testing.T) {
	v := Version()
	emu := os.Getenv("SHM_TEST_EMULATOR")
	t.Logf("Version() = %q; GOOS %s; SHM_TEST_EMULATOR %q", v, runtime.GOOS, emu)
	if runtime.GOOS != "windows" && v != "" {
		t.Errorf("Version() = %q on %s", v, runtime.GOOS)
	}
	if strings.HasPrefix(emu, "wine-") && (v == "" || !strings.HasPrefix(emu, "wine-"+v)) {
		t.Errorf("Version() = %q under %s", v, emu)
	}
}
