//go:build unix

package shm

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"github.com/shmkit/shm/internal/lock"
	"golang.org/x/sys/unix"
)

// Pass arranges for cmd's process to inherit o under name: it appends o's
// descriptor to cmd.ExtraFiles and sets SHM_FD_<name> in cmd.Env (starting
// from os.Environ() if cmd.Env is nil) to the descriptor number the child
// will see. Call it before cmd.Start; o must stay open until then. The
// child calls [Inherited](name). name is 1 to 64 characters of
// [A-Za-z0-9_].
//
// Starting from os.Environ(), Pass leaves out every SHM_FD_ variable:
// those name descriptors this process inherited, which the child does not
// (its descriptors from 3 on are cmd.ExtraFiles), so the child would adopt
// whatever now has that number. Any other SHM_FD_ variable that names the
// descriptor number o gets is left out too.
func Pass(cmd *exec.Cmd, name string, o *Object) error {
	key, err := passKey(cmd, name, o)
	if err != nil {
		return err
	}
	// The file stays the Object's: cmd only reads its number at Start.
	f := o.h.osFile()
	if f == nil || o.h.closed() {
		return o.errClosed("pass")
	}
	env := cmd.Env
	if env == nil {
		env = withoutPassed(os.Environ(), func(string) bool { return true })
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	num := strconv.Itoa(2 + len(cmd.ExtraFiles))
	env = withoutPassed(env, func(val string) bool { return val == num })
	cmd.Env = append(withoutEnv(env, key), key+"="+num)
	return nil
}

// receiveFDs is how many descriptors Receive has room for: Linux's
// SCM_MAX_FD, the most one message can carry there. Tests lower it.
var receiveFDs = 253

var inherited struct {
	sync.Mutex
	taken map[int]string
}

// Inherited returns the object a parent passed under name with [Pass] (or
// `shm exec`). It adopts the descriptor named by SHM_FD_<name>, makes it
// close-on-exec so it goes no further unless passed again, and removes the
// variable from the environment. Asking twice for the same descriptor is
// an error, so that two Objects never own one descriptor; so is a
// close-on-exec descriptor, which cannot have come across exec (every
// descriptor Go opens is close-on-exec).
func Inherited(name string) (*Object, error) {
	key, err := envName(name)
	if err != nil {
		return nil, err
	}
	val, ok := os.LookupEnv(key)
	if !ok {
		return nil, fmt.Errorf("shm: Inherited(%q): %s is not set: the parent did not pass an object under that name: %w", name, key, os.ErrNotExist)
	}
	// A descriptor is a C int: parsed as 32 bits, so that no larger
	// number can be truncated by the kernel into another descriptor.
	fd64, err := strconv.ParseInt(val, 10, 32)
	if err != nil || fd64 < 3 {
		return nil, fmt.Errorf("shm: Inherited(%q): %s=%q is not a descriptor number from 3 to %d", name, key, val, math.MaxInt32)
	}
	fd := int(fd64)
	inherited.Lock()
	defer inherited.Unlock()
	if prev, ok := inherited.taken[fd]; ok {
		return nil, fmt.Errorf("shm: Inherited(%q): descriptor %d was already adopted as %q", name, fd, prev)
	}
	fdFlags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return nil, fmt.Errorf("shm: Inherited(%q): %s=%d: descriptor is not open: %w", name, key, fd, err)
	}
	if fdFlags&unix.FD_CLOEXEC != 0 {
		// A descriptor that came across exec cannot be close-on-exec; one
		// that is was opened by this process, which owns it already (an
		// Object's, a file's): adopting it would give it two owners.
		return nil, fmt.Errorf("shm: Inherited(%q): %s=%d: descriptor %d is close-on-exec, so this process opened it rather than inherited it; a stale or wrong %s", name, key, fd, fd, key)
	}
	// A descriptor we refuse is not ours to close: it stays open.
	o, err := adoptRaw(fd, "shm:"+name)
	if err != nil {
		return nil, fmt.Errorf("shm: Inherited(%q): descriptor %d: %w", name, fd, err)
	}
	if inherited.taken == nil {
		inherited.taken = make(map[int]string)
	}
	inherited.taken[fd] = name
	os.Unsetenv(key)
	return o, nil
}

// Send writes objs to the Unix socket c as one message carrying their
// descriptors (SCM_RIGHTS). The objects stay open in this process; close
// them when you no longer need them. At most [MaxSend] objects go in one
// message.
func Send(c *net.UnixConn, objs ...*Object) error {
	if c == nil {
		return errors.New("shm: Send: nil connection")
	}
	if len(objs) == 0 || len(objs) > MaxSend {
		return fmt.Errorf("shm: Send: %d objects; send 1 to %d per message", len(objs), MaxSend)
	}
	// Hold every descriptor valid while the message is written.
	fds := make([]int, 0, len(objs))
	defer func() {
		for _, o := range objs[:len(fds)] {
			o.h.release()
		}
	}()
	for i, o := range objs {
		if o == nil {
			return fmt.Errorf("shm: Send: object %d is nil", i)
		}
		if !o.h.acquire() {
			return fmt.Errorf("shm: Send: %w", o.errClosed("send"))
		}
		fds = append(fds, o.h.fd)
	}
	hdr := append([]byte(sendMagic), byte(len(fds)))
	n, oobn, err := c.WriteMsgUnix(hdr, unix.UnixRights(fds...), nil)
	if err == nil && (n != len(hdr) || oobn == 0) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("shm: Send: %w", err)
	}
	return nil
}

// Receive reads one message written by [Send] from the Unix socket c and
// returns its objects, close-on-exec. It fails without leaking a
// descriptor when the peer closed the connection (an error wrapping
// io.EOF), sent plain bytes, sent more descriptors than fit (truncated
// control message), or sent descriptors that are not shared memory.
func Receive(c *net.UnixConn) ([]*Object, error) {
	if c == nil {
		return nil, errors.New("shm: Receive: nil connection")
	}
	hdr := make([]byte, len(sendMagic)+1)
	oob := make([]byte, unix.CmsgSpace(receiveFDs*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(hdr, oob)
	fds, perr := parseRights(oob[:oobn])
	closeAll := func() {
		for _, fd := range fds {
			lock.CloseFD(fd)
		}
	}
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("shm: Receive: %w", err)
	}
	if perr != nil {
		closeAll()
		return nil, fmt.Errorf("shm: Receive: bad control message: %w", perr)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		closeAll()
		return nil, errors.New("shm: Receive: control message truncated: the peer sent more descriptors than a message may carry")
	}
	if flags&unix.MSG_TRUNC != 0 {
		// A datagram or sequenced-packet socket: the message was longer
		// than Send's header, so Send did not write it.
		closeAll()
		return nil, errors.New("shm: Receive: the peer's message is longer than a shm message")
	}
	if len(fds) > MaxSend {
		closeAll()
		return nil, fmt.Errorf("shm: Receive: peer sent %d descriptors; a message carries at most %d", len(fds), MaxSend)
	}
	if n == 0 && len(fds) == 0 {
		return nil, fmt.Errorf("shm: Receive: peer closed the connection: %w", io.EOF)
	}
	// A stream socket may deliver the header in pieces; the descriptors
	// came with its first byte.
	for n < len(hdr) && n > 0 && string(hdr[:n]) == sendMagic[:min(n, len(sendMagic))] {
		m, err := c.Read(hdr[n:])
		n += m
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("shm: Receive: peer closed mid-message: %w", err)
		}
	}
	if n != len(hdr) || string(hdr[:len(sendMagic)]) != sendMagic {
		closeAll()
		return nil, fmt.Errorf("shm: Receive: peer sent %d bytes of plain data (%q), not a shm message", n, hdr[:n])
	}
	if want := int(hdr[len(sendMagic)]); want != len(fds) {
		closeAll()
		return nil, fmt.Errorf("shm: Receive: header announces %d descriptors, message carried %d", want, len(fds))
	}
	if len(fds) == 0 {
		// Send never writes one: a caller may take objs[0].
		return nil, errors.New("shm: Receive: the message carries no object")
	}
	objs := make([]*Object, 0, len(fds))
	for i, fd := range fds {
		o, err := adoptRaw(fd, "shm:received")
		if err != nil {
			for _, done := range objs {
				done.Close()
			}
			for _, rest := range fds[i:] {
				lock.CloseFD(rest)
			}
			return nil, fmt.Errorf("shm: Receive: descriptor %d of %d: %w", i+1, len(fds), err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// parseRights returns every descriptor of the SCM_RIGHTS control
// messages, even when some message is malformed, so that the caller can
// close them all. Other control messages, which a socket's options may
// add to every message (SO_PASSCRED's credentials, a security label),
// are not the sender's doing and are skipped; a descriptor one of them
// carries (SO_PASSPIDFD's pidfd) is closed.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	var firstErr error
	for i := range msgs {
		h := msgs[i].Header
		if h.Level != unix.SOL_SOCKET || h.Type != unix.SCM_RIGHTS {
			closeCarried(&msgs[i])
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, fd := range got {
			unix.CloseOnExec(fd)
		}
		fds = append(fds, got...)
	}
	return fds, firstErr
}
