// Package limits is the direct-memory budget: the limit on how much memory
// the packages above it may hold outside the Go heap, and the retry loop that
// waits for garbage-collected buffers to give memory back before a
// reservation fails.
//
// It is the Go counterpart of the JVM's java.nio.Bits.reserveMemory,
// tryReserveMemory and unreserveMemory, and of jdk.internal.misc.VM's
// maxDirectMemory (-XX:MaxDirectMemorySize). The semantics are JDK 17's:
//
//   - A [Budget] keeps three counters: the number of reservations, their
//     total capacity (the sum of the capacities callers asked for) and the
//     memory reserved (the sum of the real sizes, including rounding). The
//     limit applies to total capacity, inclusively; capacity 0 always fits.
//   - [Budget.Reserve] first tries a lock-free reservation; failing that, it
//     waits for cleanups, forces one garbage collection and backs off for
//     about half a second before it fails with an [*OutOfMemoryError] whose
//     message is the JVM's. Its documentation describes the algorithm.
//   - [Default] is the process-wide budget. Its limit comes from the
//     environment variable DIRECTMEM_MAX (the JVM's size syntax, see
//     [ParseSize]), else GOMEMLIMIT, else a quarter of the memory the process
//     may use. An invalid setting is never ignored: every reservation fails
//     with an error that names the variable and its value.
//
// Where Go differs from the JVM, and what the JVM never had:
//
//   - Waiting takes a [context.Context]. A reservation that fits succeeds even
//     if the context is already done (the JVM's interrupts likewise only
//     affect waiting); one that has to wait returns as soon as the context
//     ends, with an error wrapping ctx.Err() and nothing reserved.
//   - Reservations that hit the limit together share one forced
//     collection; a request larger than the whole limit fails at once,
//     without a collection or back-off (sizes that cannot be one
//     reservation at all are [ErrInvalidSize]); and a reservation waiting
//     for memory retries as soon as any is released.
//   - Leases (module-internal, package internal/lease) let an owner that
//     already holds a lock (an allocator's shard, an arena) reserve under
//     that lock with no atomic operation per reservation. The counters stay
//     exact, and the retry loop takes idle credit back before it waits.
//   - When a reservation takes total capacity across a high-water mark (85%
//     of the limit unless changed with [Budget.SetHighWater]), the budget
//     starts one garbage collection in the background, so that buffers
//     dropped without being freed come back before anyone has to wait.
//   - Collections are paced on managed off-heap bytes ([Budget.SetGCPercent]):
//     when buffers the collector releases are dropped faster than the Go
//     heap makes the collector run, the budget starts one itself, so a
//     program with a large, quiet heap does not pile up dropped memory.
//   - Releasing more than is reserved is a programming error and panics
//     (the JVM only asserts). A reservation goes back where it was made: on
//     the budget, or through the lease that made it.
package limits
