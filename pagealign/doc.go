// Package pagealign is the bottom layer of offheap: the page size, alignment
// arithmetic, and anonymous memory regions obtained straight from the
// operating system, outside the Go heap.
//
// It is the Go counterpart of the JVM's java.nio.Bits.pageSize and
// jdk.internal.misc.Unsafe.allocateMemory/freeMemory, except that memory
// comes from anonymous mmap(2) rather than malloc(3): mmap'd memory is
// page-aligned, zero-filled by the kernel, and can be returned to the
// system piece by piece (madvise MADV_DONTNEED) without a C allocator.
//
// [Map] returns a [Region], a handle whose [Region.Bytes] is the memory.
// Regions are invisible to the garbage collector. Nothing frees them but
// [Region.Unmap], which unmaps once: later calls do nothing, because the
// system hands freed addresses to the next mapping, and a second munmap would
// take them from it. The packages above this one (directmem, mapped) attach
// cleanups to Go objects that own regions.
//
// [Advise], [Resident] and [Sync] are madvise(2), mincore(2) and msync(2) of
// the whole pages covering a page-aligned slice, of a Region or of any other
// mapping (package mapped's files): the hints and give-backs of the
// allocator, and MappedByteBuffer's load, isLoaded and force.
//
// On Unix systems Map uses unix.MmapPtr/MunmapPtr, which, unlike unix.Mmap,
// take no process-wide lock and keep no map of live regions: the Region
// records the mapping instead. On Windows it uses VirtualAlloc/VirtualFree.
// Elsewhere every function that needs the operating system returns
// [errors.ErrUnsupported].
package pagealign
