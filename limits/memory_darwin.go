package limits

import (
	"math"

	"golang.org/x/sys/unix"
)

// processMemory returns the memory the process may use: physical memory.
func processMemory() (int64, bool) {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil || n == 0 {
		return 0, false
	}
	return int64(min(n, math.MaxInt64)), true
}
