//go:build unix

package mapped

import (
	"time"
	"unsafe"
)

// MmapFunc is the type of mmapFile (unix.MmapPtr).
type MmapFunc = func(fd int, offset int64, addr unsafe.Pointer, length uintptr, prot, flags int) (unsafe.Pointer, error)

// SwapMmap makes Map call f instead of mmap(2) and returns the function it
// called before, for f to call through and for the test to restore.
func SwapMmap(f MmapFunc) (old MmapFunc) {
	old, mmapFile = mmapFile, f
	return old
}

// SwapSleep makes the ENOMEM retry call f instead of time.Sleep and
// returns the function it called before.
func SwapSleep(f func(time.Duration)) (old func(time.Duration)) {
	old, sleep = sleep, f
	return old
}

// StatFunc is the type of the function Cache finds a path's identity with.
type StatFunc = func(path string) (dev, ino uint64, err error)

// SwapStat makes Cache call f instead of stat(2) to find a path's identity
// and returns the function it called before.
func SwapStat(f StatFunc) (old StatFunc) {
	old, statPath = statPath, f
	return old
}

// FrontLen returns how many entries the cache's front map holds.
func (c *Cache) FrontLen() int {
	n := 0
	c.front.Range(func(_, _ any) bool { n++; return true })
	return n
}

// HotLen returns how many hot slots hold an entry.
func (c *Cache) HotLen() int {
	n := 0
	for i := range c.hot {
		if c.hot[i].Load() != nil {
			n++
		}
	}
	return n
}

// WindowLen returns how many mappings the admission window holds.
func (c *Cache) WindowLen() int {
	c.windowMu.Lock()
	defer c.windowMu.Unlock()
	return len(c.window)
}
