package lock

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// The Windows owner record (owner_windows.go): what an owner publishes in
// its named section so that a waiter can find the holder's process and
// wait for its death. It is read from an object that any process of the
// session could have made, so it is decoded as hostile bytes. The layout
// is little-endian: magic, process id, process creation time (FILETIME,
// 100 ns since 1601).
const (
	ownerRecordSize  = 16
	ownerRecordMagic = 0x4f6d6873 // "shmO"
)

// encodeOwnerRecord returns the record of process pid, made at created.
func encodeOwnerRecord(pid uint32, created uint64) [ownerRecordSize]byte {
	var b [ownerRecordSize]byte
	binary.LittleEndian.PutUint32(b[0:], ownerRecordMagic)
	binary.LittleEndian.PutUint32(b[4:], pid)
	binary.LittleEndian.PutUint64(b[8:], created)
	return b
}

// decodeOwnerRecord returns the process id and creation time in b, and
// false for anything that is not a record: short, wrong magic, a zero
// process id or creation time.
func decodeOwnerRecord(b []byte) (pid uint32, created uint64, ok bool) {
	if len(b) < ownerRecordSize || binary.LittleEndian.Uint32(b[0:]) != ownerRecordMagic {
		return 0, 0, false
	}
	pid = binary.LittleEndian.Uint32(b[4:])
	created = binary.LittleEndian.Uint64(b[8:])
	if pid == 0 || created == 0 {
		return 0, 0, false
	}
	return pid, created, true
}

// ownerObjectName is the name of the section in which the owner with
// token t publishes its record. Only the masked token goes into it: a
// token read from a hostile word can name no object outside this prefix.
func ownerObjectName(t uint32) string { return fmt.Sprintf(`Local\shm-owner-%08x`, t&tokenMask) }

// ownerClosedName is the name of the manual-reset event that the owner
// with token t sets when it closes (a Mapping closed while holding a
// mutex), so that the waiters on its mutexes probe it at once.
func ownerClosedName(t uint32) string { return ownerObjectName(t) + "-closed" }

// waitObjectName is the name of the semaphore on which the waiters of the
// lock word named key sleep (waitq_windows.go): a 64-bit FNV-1a hash of
// the key, so that any key gives a name under the prefix.
func waitObjectName(key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	return fmt.Sprintf(`Local\shm-wait-%016x`, h.Sum64())
}
