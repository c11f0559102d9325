package limits

import (
	"math"
	"unsafe"

	"golang.org/x/sys/windows"
)

// x/sys/windows has no wrapper for GlobalMemoryStatusEx.
var procGlobalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")

// memoryStatusEx is MEMORYSTATUSEX.
type memoryStatusEx struct {
	length               uint32
	memoryLoad           uint32
	totalPhys            uint64
	availPhys            uint64
	totalPageFile        uint64
	availPageFile        uint64
	totalVirtual         uint64
	availVirtual         uint64
	availExtendedVirtual uint64
}

// processMemory returns the memory the process may use: physical memory.
func processMemory() (int64, bool) {
	if procGlobalMemoryStatusEx.Find() != nil {
		return 0, false
	}
	s := memoryStatusEx{length: uint32(unsafe.Sizeof(memoryStatusEx{}))}
	if r, _, _ := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&s))); r == 0 || s.totalPhys == 0 {
		return 0, false
	}
	return int64(min(s.totalPhys, math.MaxInt64)), true
}
