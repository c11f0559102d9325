// Package directmem provides byte buffers whose memory lives outside the Go
// heap, under a budget, released by hand or by the garbage collector: the Go
// counterpart of java.nio.DirectByteBuffer (ByteBuffer.allocateDirect),
// java.nio.Bits and the "direct" BufferPoolMXBean.
//
// # Buffers
//
// A [Buffer] is a java.nio.ByteBuffer: capacity, position, limit and mark
// with the JVM's invariants and cursor rules, relative and absolute typed
// access in a settable byte order (big-endian by default), views that share
// memory (Slice, Duplicate, AsReadOnly), and the io interfaces (Reader,
// Writer, ReaderAt, WriterAt, ReaderFrom, WriterTo, ByteReader,
// ByteWriter). The JVM's exceptions are error values: [ErrBufferUnderflow],
// [ErrBufferOverflow], [ErrReadOnly], [ErrIndexOutOfRange],
// [ErrInvalidMark], and two the JVM lacks, [ErrFreed] and [ErrNotOwner].
//
// # Lifetime
//
// Memory is reserved from a [limits.Budget] (the JVM's
// -XX:MaxDirectMemorySize) before it is taken from the system, and given
// back exactly once: when [Buffer.Free] is called (the JVM's
// Unsafe.invokeCleaner) or, if it never is, after the buffer and every view
// of it have become unreachable (the JVM's Cleaner, here
// runtime.AddCleanup). When the budget is full, an
// allocation waits for pending cleanups, forces one GC, and backs off for
// about half a second before failing with [limits.ErrOutOfDirectMemory],
// exactly as java.nio.Bits.reserveMemory does, and stops waiting when its
// context ends.
//
// Each allocation has one owner object, shared by the root buffer and its
// views, which carries a freed flag and the way to release the memory.
// Every method that touches memory checks the flag (so use after Free is
// [ErrFreed], not a crash) and ends with runtime.KeepAlive of the buffer, the JVM's
// Reference.reachabilityFence, so that the collector cannot release the
// memory while a method is still using it.
//
// # Where memory comes from
//
// Buffers come from anonymous mmap'd memory (package pagealign), cut into
// size classes shared by every [Allocator] and [Arena] of the process, so
// they are aligned as [Options.Alignment] asks (16 bytes by default),
// zero-filled unless [Options.NoZero], and invisible to the garbage
// collector: a process can hold gigabytes of buffers while its Go heap,
// and the cost of each GC cycle, stays small. A request larger than the
// budget's whole limit fails at once.
//
// Memory this package did not allocate (a file mapping, memory from C)
// becomes a full Buffer through a [Pool] ([NewPool], [Pool.Wrap]): counted
// in [Pools], tracked by leak detection, released exactly once, and, when
// [Memory.MayFault] says its pages can fault, with faults returned as
// errors instead of crashing the process. [Wrap] makes a Buffer over such
// memory with no pool: released exactly once, but neither counted nor
// tracked. [Pool.Share] makes memory that many buffers use at once, each
// with its own cursor and Free (a cached mapping's leases), released once
// the [Shared] is closed and its last buffer is gone.
//
// [Buffer.Bytes] exposes the memory as a []byte for code that needs one
// (syscalls, hashing, encoding). Such a slice does not keep the memory
// alive and is invalid after Free; the methods are the safe path.
package directmem
