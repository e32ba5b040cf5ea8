//go:build unix && !linux

package lock

var namedLockers = []namedLocker{{"fcntl", newFcntlLocker, nil}, {"flock", newFlockLocker, nil}}
