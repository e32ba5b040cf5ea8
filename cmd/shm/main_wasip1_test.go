package main

import "testing"

// TestScripts stands in for the testscript suite, which does not build on
// wasip1 (go-internal's testscript needs os/exec path lookup).
func TestScripts(t *testing.T) {
	t.Skip("the CLI scripts need testscript and POSIX shared memory; wasip1 has neither")
}
