//go:build !unix

package dialect

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestFileOperationsUnsupported(t *testing.T) {
	d := mustForOS(t, "linux").Rooted("/objdir") // the operations fail before touching it
	_, openErr := d.Open("/x", os.O_RDWR|os.O_CREATE, 0o600, OpenOptions{})
	_, createErr := d.Create("/x", 1, 0o600, nil)
	_, anonErr := d.CreateAnon(1)
	for op, err := range map[string]error{"Open": openErr, "Create": createErr, "CreateAnon": anonErr, "Unlink": d.Unlink("/x")} {
		var pe *fs.PathError
		if !errors.As(err, &pe) || !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), runtime.GOOS) {
			t.Errorf("%s: %v, want a *fs.PathError wrapping ErrUnsupported naming %s", op, err, runtime.GOOS)
		}
	}
}
