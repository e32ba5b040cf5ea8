//go:build unix && !linux

package lock

import "os"

var lockers = []func(*os.File) (locker, error){newFcntlLocker, newFlockLocker}
