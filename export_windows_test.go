package shm

import (
	"io"
	"unsafe"

	"golang.org/x/sys/windows"
)

// SectionHandle returns the object's own section handle. Tests only.
func SectionHandle(o *Object) windows.Handle { return o.h.h }

// SendOver is Send over any byte stream. Tests only.
func SendOver(rw io.ReadWriter, objs ...*Object) error { return sendOver(rw, objs...) }

// ReceiveOver is Receive over any byte stream whose peer is process
// peer. Tests only.
func ReceiveOver(rw io.ReadWriter, peer uint32) ([]*Object, error) {
	return receiveOver(rw, peer, nil)
}

// HandleCount returns how many handles, in every process, are open to
// the object that h refers to (NtQueryObject). Tests only.
func HandleCount(h windows.Handle) (uint32, error) {
	var info objectBasicInformation
	r, _, _ := procNtQueryObject.Call(uintptr(h), 0, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info), 0)
	if r != 0 {
		return 0, windows.NTStatus(r)
	}
	return info.handleCount, nil
}

// WaitKey returns the key that names the lock words at offset off of m
// for waits across processes. Tests only.
func WaitKey(m *Mapping, off int) (string, error) { return m.waitKey(off) }
