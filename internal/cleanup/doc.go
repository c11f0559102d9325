// Package cleanup is the machinery under package cleaner that package
// directmem also needs: the counters behind cleaner.Stats, running a release
// function with panic containment, the signal that wakes cleaner.WaitPending
// and cleaner.WaitForProgress when a release run by the garbage collector
// finishes, and [Reusable], the registration directmem's buffers are
// guarded by.
//
// It is internal so that users see only package cleaner; it must not import
// cleaner, which is built on it.
package cleanup
