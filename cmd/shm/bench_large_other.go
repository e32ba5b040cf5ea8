//go:build !linux

package main

import "runtime"

// large has no rows outside Linux: the peers (memfd) and the huge-page
// switches it reads are Linux's.
func (b *bencher) large(size int64, _ int) ([]benchRow, error) {
	if size <= 0 {
		return nil, nil
	}
	return []benchRow{{Name: "large-" + formatSize(size), Note: "the large-object rows run on Linux only, not on " + runtime.GOOS}}, nil
}
