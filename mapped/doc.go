// Package mapped maps files into memory as direct buffers: the Go form of
// java.nio's FileChannel.map, MappedByteBuffer and the JVM's Unmapper, with
// the "mapped" BufferPoolMXBean.
//
// [Map] and [MapFile] return a [*Buffer]: a full directmem.Buffer (the
// ByteBuffer cursor, typed big- and little-endian access, views, the io
// interfaces) over the mapped pages of a file, plus MappedByteBuffer's
// Force, Load and IsLoaded, and Advise. Writes through a ReadWrite mapping
// reach the file (Force makes them durable); writes through a Private one
// never do.
//
// # Lifetime
//
// A mapping is unmapped exactly once: by Free (the JVM's Unmapper, which
// JDK code reaches through Unsafe.invokeCleaner), or, if Free never comes,
// after the buffer and every view of it have become unreachable. It stays
// valid after the *os.File it was made from is closed. Views (Slice,
// SliceAt, Duplicate, AsReadOnly) are mapped Buffers too and keep the
// mapping alive; Free on a view returns directmem.ErrNotOwner. Mapped
// memory is counted in the "mapped" pool ([Stats], directmem.Pools) and
// tracked by leak detection, not reserved from the direct budget: as in the
// JVM, MaxDirectMemorySize does not cover it.
//
// # Faults
//
// Touching a page of a mapping whose file has been truncated below it
// raises SIGBUS, which kills a Go program that reads a mapped file with a
// plain slice. Every data method of a mapped Buffer and of its views (and
// Load) returns an error matching [ErrFault] instead, and the program goes
// on. Bytes returns the raw memory, which cannot be guarded: read it inside
// directmem.Guard.
//
// # Pooling and transfers
//
// [Cache] keeps hot mappings mapped across reads (the segments of a log,
// of an index) within a byte budget, on ristretto: [Cache.Acquire] returns
// a [Lease] whose Release gives the mapping back, and every mapping is
// unmapped exactly once, when the cache and the last lease have let it go.
//
// [TransferTo] and [TransferFrom] are FileChannel.transferTo and
// transferFrom: in the kernel where it can (copy_file_range, sendfile),
// else through read-only mapped windows of 8 MiB, else through an 8 KiB
// temporary direct buffer, as the JDK does.
//
// Mappings larger than 2 GiB work (the JVM's MappedByteBuffer cannot hold
// one). Linux and darwin map for real; on Windows, Map returns an error
// matching errors.ErrUnsupported.
package mapped
