package shm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"unsafe"

	"github.com/shmkit/shm/internal/handoff"
	"golang.org/x/sys/windows"
)

// Send and Receive on windows: a socket carries no handles there (no
// SCM_RIGHTS), so the receiver pulls them. Send writes an offer naming
// this process and the values of the objects' section handles; Receive
// opens the sender's process with PROCESS_DUP_HANDLE, duplicates each
// value into itself, checks that each is a section of the stated size,
// and replies; Send returns once the reply came, keeping the handles open
// until then. The frames are internal/handoff's. The receiver owns only
// handles it duplicated itself, so a peer cannot make it adopt one of its
// own handles, nor one of a third process unless it is that process (the
// offer's process id must be the socket's peer, SIO_AF_UNIX_GETPEERPID).
// Both run over any byte stream (sendOver, receiveOver), so that tests
// can use pipes where AF_UNIX is missing (wine 8.0 has none).

// Send writes objs to the Unix socket c. Windows sockets carry no
// handles, so Send writes the values of the objects' section handles and
// this process's id, and waits for the receiver's reply: [Receive] in
// the peer duplicates the handles out of this process itself
// (PROCESS_DUP_HANDLE). Send returns nil once the receiver took them
// all, and an error giving the receiver's reason if it refused. The
// objects stay open in this process; close them when you no longer need
// them. At most [MaxSend] objects go in one message.
func Send(c *net.UnixConn, objs ...*Object) error {
	if c == nil {
		return errors.New("shm: Send: nil connection")
	}
	return sendOver(c, objs...)
}

// Receive reads the objects one [Send] offers over the Unix socket c and
// returns them, their handles not inheritable. It duplicates each handle
// out of the sender's process, which must be the socket's peer (its id
// from SIO_AF_UNIX_GETPEERPID; where Windows cannot tell it, Receive
// refuses), and answers the sender. It fails without keeping a handle
// when the peer closed the connection (an error wrapping io.EOF), sent
// bytes that are not an offer, named another process, or named handles
// that are not sections (an error wrapping [ErrNotMemory]); the sender
// is told why. After such an error the rest of a bad frame may still be
// in the stream: close the connection.
func Receive(c *net.UnixConn) ([]*Object, error) {
	if c == nil {
		return nil, errors.New("shm: Receive: nil connection")
	}
	pid, err := peerPID(c)
	if err != nil {
		err = fmt.Errorf("cannot tell the socket's peer process: %w", err)
	}
	return receiveOver(c, pid, err)
}

// sioAFUnixGetPeerPID is SIO_AF_UNIX_GETPEERPID, _WSAIOR(IOC_VENDOR, 256):
// the process id of an AF_UNIX socket's peer (Windows 10 1803 and later,
// the releases that have AF_UNIX).
const sioAFUnixGetPeerPID = 0x40000000 | 0x18000000 | 256

// peerPID returns the process id of the peer of c.
func peerPID(c *net.UnixConn) (uint32, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pid uint32
	var ierr error
	err = rc.Control(func(fd uintptr) {
		var n uint32
		ierr = windows.WSAIoctl(windows.Handle(fd), sioAFUnixGetPeerPID, nil, 0, (*byte)(unsafe.Pointer(&pid)), uint32(unsafe.Sizeof(pid)), &n, nil, 0)
		if ierr == nil && (n != uint32(unsafe.Sizeof(pid)) || pid == 0) {
			ierr = fmt.Errorf("SIO_AF_UNIX_GETPEERPID returned %d bytes, process id %d", n, pid)
		}
	})
	if err != nil {
		return 0, err
	}
	if ierr != nil {
		return 0, os.NewSyscallError("WSAIoctl", ierr)
	}
	return pid, nil
}

// sendOver offers objs over rw and waits for the reply.
func sendOver(rw io.ReadWriter, objs ...*Object) error {
	if len(objs) == 0 || len(objs) > MaxSend {
		return fmt.Errorf("shm: Send: %d objects; send 1 to %d per message", len(objs), MaxSend)
	}
	// Every handle stays open until the reply, whatever another goroutine
	// does with the objects meanwhile.
	held := 0
	defer func() {
		for _, o := range objs[:held] {
			o.h.release()
		}
	}()
	offer := handoff.Offer{PID: uint32(os.Getpid()), Entries: make([]handoff.Entry, len(objs))}
	for i, o := range objs {
		if o == nil {
			return fmt.Errorf("shm: Send: object %d is nil", i)
		}
		if !o.h.acquire() {
			return fmt.Errorf("shm: Send: %w", o.errClosed("send"))
		}
		held++
		size, err := sectionSize(o.h.h)
		if err != nil {
			return fmt.Errorf("shm: Send: %w", o.wrap("NtQuerySection", err))
		}
		offer.Entries[i] = handoff.Entry{Handle: uint64(o.h.h), Size: size}
	}
	frame, err := handoff.AppendOffer(nil, offer)
	if err != nil {
		return fmt.Errorf("shm: Send: %w", err)
	}
	if _, err := rw.Write(frame); err != nil {
		return fmt.Errorf("shm: Send: %w", err)
	}
	refusal, err := handoff.ReadReply(rw)
	if err != nil {
		return fmt.Errorf("shm: Send: waiting for the receiver's reply: %w", err)
	}
	if refusal != "" {
		return fmt.Errorf("shm: Send: the receiver refused the objects: %s", refusal)
	}
	return nil
}

// receiveOver reads an offer from rw, whose peer is the process peer, and
// takes its objects. If peerErr is not nil the peer is unknown: the offer
// is read and refused with that error.
func receiveOver(rw io.ReadWriter, peer uint32, peerErr error) ([]*Object, error) {
	offer, err := handoff.ReadOffer(rw, MaxSend)
	if err == io.EOF {
		return nil, fmt.Errorf("shm: Receive: peer closed the connection: %w", io.EOF)
	}
	if err == nil {
		err = peerErr
	}
	if err == nil && offer.PID != peer {
		err = fmt.Errorf("the offer names process %d, but the peer is process %d", offer.PID, peer)
	}
	var objs []*Object
	if err == nil {
		objs, err = pull(offer)
	}
	var reason string
	if err != nil {
		reason = err.Error()
	}
	if _, werr := rw.Write(handoff.AppendReply(nil, reason)); werr != nil && err == nil {
		for _, o := range objs {
			o.Close()
		}
		return nil, fmt.Errorf("shm: Receive: replying to the sender: %w", werr)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: Receive: %w", err)
	}
	return objs, nil
}

// pull duplicates the offered handles out of the sender's process and
// adopts them; on failure it keeps none.
func pull(offer handoff.Offer) (objs []*Object, err error) {
	defer func() {
		if err != nil {
			for _, o := range objs {
				o.Close()
			}
			objs = nil
		}
	}()
	proc, err := windows.OpenProcess(windows.PROCESS_DUP_HANDLE, false, offer.PID)
	if err != nil {
		return nil, fmt.Errorf("opening the sender's process %d to duplicate its handles: %w", offer.PID, os.NewSyscallError("OpenProcess", err))
	}
	defer windows.CloseHandle(proc)
	self := windows.CurrentProcess()
	for i, e := range offer.Entries {
		where := fmt.Sprintf("object %d of %d (handle %#x of process %d)", i+1, len(offer.Entries), e.Handle, offer.PID)
		var h windows.Handle
		if err := windows.DuplicateHandle(proc, windows.Handle(e.Handle), self, &h, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
			return objs, fmt.Errorf("%s: %w", where, os.NewSyscallError("DuplicateHandle", err))
		}
		o, err := adoptRaw(h, "shm:received")
		if err != nil {
			windows.CloseHandle(h)
			return objs, fmt.Errorf("%s: %w", where, err)
		}
		objs = append(objs, o)
		size, err := o.Size()
		if err != nil {
			return objs, fmt.Errorf("%s: %w", where, err)
		}
		if size != e.Size {
			return objs, fmt.Errorf("%s: the section is %d bytes, the offer says %d", where, size, e.Size)
		}
	}
	return objs, nil
}
