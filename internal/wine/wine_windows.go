package wine

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// version asks ntdll for wine_get_version, which only wine's ntdll
// exports.
var version = sync.OnceValue(func() string {
	p := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if p.Find() != nil {
		return ""
	}
	r, _, _ := p.Call()
	if r == 0 {
		return ""
	}
	return windows.BytePtrToString((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&r))))
})
