package shm

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Windows calls that golang.org/x/sys/windows does not wrap.
var (
	modkernel32 = windows.NewLazySystemDLL("kernel32.dll")
	modntdll    = windows.NewLazySystemDLL("ntdll.dll")

	procOpenFileMappingW = modkernel32.NewProc("OpenFileMappingW")
	procGetSystemInfo    = modkernel32.NewProc("GetSystemInfo")
	procNtQuerySection   = modntdll.NewProc("NtQuerySection")
	procNtQueryObject    = modntdll.NewProc("NtQueryObject")
)

// Access rights of a section handle (winnt.h).
const (
	sectionQuery    = 0x0001 // SECTION_QUERY
	sectionMapWrite = 0x0002 // SECTION_MAP_WRITE = FILE_MAP_WRITE
	sectionMapRead  = 0x0004 // SECTION_MAP_READ = FILE_MAP_READ
)

// openFileMapping opens the section called name with the given access;
// the handle is not inheritable.
func openFileMapping(access uint32, name *uint16) (windows.Handle, error) {
	r, _, e := procOpenFileMappingW.Call(uintptr(access), 0, uintptr(unsafe.Pointer(name)))
	if r == 0 {
		return 0, e
	}
	return windows.Handle(r), nil
}

// sectionBasicInformation is SECTION_BASIC_INFORMATION.
type sectionBasicInformation struct {
	base       uintptr
	attributes uint32
	size       int64
}

// sectionSize returns the size of the section h, which must grant
// SECTION_QUERY. It fails on a handle that is not a section.
func sectionSize(h windows.Handle) (int64, error) {
	var info sectionBasicInformation
	r, _, _ := procNtQuerySection.Call(uintptr(h), 0 /* SectionBasicInformation */, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info), 0)
	if r != 0 {
		return 0, windows.NTStatus(r)
	}
	return info.size, nil
}

// objectBasicInformation is the start of PUBLIC_OBJECT_BASIC_INFORMATION.
type objectBasicInformation struct {
	attributes    uint32
	grantedAccess uint32
	handleCount   uint32
	pointerCount  uint32
	reserved      [10]uint32
}

// grantedAccess returns the access rights the handle h carries.
func grantedAccess(h windows.Handle) (uint32, error) {
	var info objectBasicInformation
	r, _, _ := procNtQueryObject.Call(uintptr(h), 0 /* ObjectBasicInformation */, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info), 0)
	if r != 0 {
		return 0, windows.NTStatus(r)
	}
	return info.grantedAccess, nil
}

// systemInfo is the start of SYSTEM_INFO, up to the allocation
// granularity.
type systemInfo struct {
	processorArchitecture uint16
	reserved              uint16
	pageSize              uint32
	minimumAddress        uintptr
	maximumAddress        uintptr
	activeProcessorMask   uintptr
	numberOfProcessors    uint32
	processorType         uint32
	allocationGranularity uint32
	processorLevel        uint16
	processorRevision     uint16
}

// allocationGranularity is the alignment of a view's offset in its
// section: 64 KiB on every Windows release so far, asked once.
var allocationGranularity = sync.OnceValue(func() int64 {
	var si systemInfo
	procGetSystemInfo.Call(uintptr(unsafe.Pointer(&si)))
	if si.allocationGranularity == 0 {
		return 64 << 10
	}
	return int64(si.allocationGranularity)
})
