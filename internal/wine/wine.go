// Package wine tells the tests whether they run under wine, so that the
// few that wine cannot support skip and name the wine limitation.
package wine

import "testing"

// Version returns wine's version ("8.0") when this process is a Windows
// program running under wine, and "" otherwise (on real Windows and on
// every other system).
func Version() string { return version() }

// SkipTempDir skips t under wine, whose file system lacks what Go's
// os.RemoveAll uses on Windows, so that t.TempDir's cleanup fails with
// "unlinkat ...: Invalid function" and fails the test.
func SkipTempDir(t testing.TB) {
	t.Helper()
	if v := Version(); v != "" {
		t.Skipf("wine %s: t.TempDir's cleanup fails there (\"unlinkat ...: Invalid function\": wine lacks NtSetInformationFile(FileDispositionInformationEx), which Go's os.RemoveAll uses on Windows)", v)
	}
}
