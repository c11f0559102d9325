package limits

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// processMemory returns the memory the process may use: the smaller of
// physical memory and its cgroups' limit.
func processMemory() (int64, bool) {
	phys, ok := physicalMemory()
	if cg, limited := cgroupMemoryLimit(os.DirFS("/")); limited && (!ok || cg < phys) {
		return cg, true
	}
	return phys, ok
}

func physicalMemory() (int64, bool) {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil || info.Totalram == 0 {
		return 0, false
	}
	total, unit := uint64(info.Totalram), max(uint64(info.Unit), 1)
	if total > math.MaxInt64/unit {
		return math.MaxInt64, true
	}
	return int64(total * unit), true
}
