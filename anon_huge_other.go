//go:build !linux && !freebsd

package shm

// createAnonHuge: no huge pages for shared memory on this OS.
func createAnonHuge(size int64, cfg anonConfig) (*Object, error) {
	if cfg.hugeInvalid != nil {
		return nil, cfg.hugeInvalid
	}
	if err := checkHugeSize(size, cfg.hugePage); err != nil {
		return nil, err
	}
	return nil, errUnsupported("CreateAnon with HugePageSize (huge pages for shared memory)")
}
