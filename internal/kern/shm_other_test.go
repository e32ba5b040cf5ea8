//go:build !freebsd && !darwin

package kern

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestComplementUnsupported(t *testing.T) {
	if Available {
		t.Fatal("Available = true on", runtime.GOOS)
	}
	fd, err := ShmOpen("/kern-complement", 0, 0o600)
	if fd != -1 {
		t.Errorf("ShmOpen fd = %d, want -1", fd)
	}
	checkUnsupported(t, "ShmOpen", err)
	checkUnsupported(t, "ShmUnlink", ShmUnlink("/kern-complement"))
}

func checkUnsupported(t *testing.T, op string, err error) {
	t.Helper()
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("%s error = %v, want one wrapping errors.ErrUnsupported", op, err)
		return
	}
	if !strings.Contains(err.Error(), runtime.GOOS) {
		t.Errorf("%s error %q does not name %s", op, err, runtime.GOOS)
	}
}
