//go:build !windows

package wine

// version returns "": wine runs Windows programs only.
func version() string { return "" }
