//go:build !unix && !windows

package shm_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

// TestUnsupported: on systems without POSIX shared memory every entry
// point fails with errors.ErrUnsupported and names the system.
func TestUnsupported(t *testing.T) {
	_, err := shm.CreateAnon(4096)
	checks := map[string]error{"CreateAnon": err}
	_, checks["Create"] = shm.Create("/x", 4096, 0)
	_, checks["Open"] = shm.Open("/x")
	checks["Unlink"] = shm.Unlink("/x")
	checks["ValidName"] = shm.ValidName("/x")
	_, checks["Inherited"] = shm.Inherited("x")
	_, checks["Listen"] = shm.Listen("/x")
	_, checks["Dial"] = shm.Dial(context.Background(), "/x")
	for name, err := range checks {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v, want errors.ErrUnsupported", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), runtime.GOOS) {
			t.Errorf("%s: %q does not name %s", name, err, runtime.GOOS)
		}
	}
}
