//go:build !linux && !darwin && !windows

package limits

// processMemory reports that the memory the process may use is unknown, so
// that Default falls back to a fixed limit.
func processMemory() (int64, bool) { return 0, false }
