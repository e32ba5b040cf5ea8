//go:build !amd64

package prefetch

import "unsafe"

// Available reports whether ForWrite issues a prefetch: on this
// architecture it does not.
const Available = false

// ForWrite does nothing on this architecture.
func ForWrite(unsafe.Pointer) {}
