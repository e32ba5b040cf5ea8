package main

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/shmkit/shm"
)

// TestObjErrNotDoubled: an error that already says "write /x:" is not
// prefixed with it again (issue 9, item 6), and a name with a control
// character is quoted.
func TestObjErrNotDoubled(t *testing.T) {
	err := objErr("write", "/x", &fs.PathError{Op: "write", Path: "/x", Err: shm.ErrFault})
	if got := err.Error(); strings.Count(got, "write /x") != 1 {
		t.Errorf("objErr = %q, want \"write /x\" once", got)
	}
	err = objErr("cat", "/a\nb", fs.ErrInvalid)
	if got := err.Error(); strings.Contains(got, "\n") || !strings.Contains(got, `"/a\nb"`) {
		t.Errorf("objErr = %q, want the name quoted", got)
	}
}
