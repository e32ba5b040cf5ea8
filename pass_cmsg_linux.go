package shm

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// closeCarried closes the descriptor that a control message other than
// SCM_RIGHTS carries: on Linux, SCM_PIDFD (a socket with SO_PASSPIDFD
// gets the sender's pidfd with every message).
func closeCarried(m *unix.SocketControlMessage) {
	if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_PIDFD && len(m.Data) >= 4 {
		unix.Close(int(int32(binary.NativeEndian.Uint32(m.Data))))
	}
}
