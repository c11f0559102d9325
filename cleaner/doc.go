// Package cleaner runs release functions exactly once, either when the code
// that owns a resource calls [Cleanable.Clean] or, failing that, after the
// garbage collector finds the owner unreachable.
//
// It is the Go counterpart of the JVM's jdk.internal.ref.Cleaner (and
// java.lang.ref.Cleaner), built on [runtime.AddCleanup]. It adds what the
// runtime does not give:
//
//   - Exactly once. [runtime.Cleanup.Stop] cannot withdraw a cleanup that the
//     garbage collector has already queued, so an explicit Clean racing a GC
//     could release twice. Every Cleanable carries an atomic state, and
//     whoever moves it from live to released first runs the release function;
//     the other does nothing. [Cleanable.Cancel] makes the same move
//     without running the function, for an owner that releases by hand in
//     its own way (to tell an explicit release from a collection, say).
//   - Containment. A panic in a release function is recovered, counted and
//     handed to the handler set with [SetPanicHandler] (by default a
//     log/slog error), so one bad release cannot take down the process.
//   - Waiting. [runtime.GC] returns before the cleanups it queued have run.
//     [WaitPending] waits, on counters rather than sleeps, until every cleanup
//     queued before the call has finished; [WaitForProgress] is the JVM's
//     JavaLangRefAccess.waitForReferenceProcessing, which the direct-memory
//     budget's slow path uses to decide whether to retry.
//
// Two rules of runtime.AddCleanup carry over to [Register]. The release
// function must not refer to the owner, or the owner never becomes
// unreachable and the cleanup never runs. And the owner must not be a tiny
// pointer-free object (under 16 bytes without pointers), which the runtime
// may batch with other objects so that it is never found unreachable;
// Register panics for such types rather than leak silently.
package cleaner
