package limits

import (
	"context"
	"fmt"
	"strconv"

	"github.com/offheap-go/offheap/internal/pacing"
)

// FollowGOGC, given to [Budget.SetGCPercent], makes the budget pace its
// collections with the runtime's GOGC percentage (the GOGC variable, or
// debug.SetGCPercent), read again at every completed cycle. It is the
// setting of a new budget.
const FollowGOGC = pacing.FollowGOGC

// envGOGC is the environment variable that sets the pacing of [Default].
const envGOGC = "DIRECTMEM_GOGC"

func newPacer(b *Budget) *pacing.Pacer {
	return pacing.New(b.leases.SumManaged, func() bool { return b.collectInBackground(&b.pacedGCs) }, b.awaitCollection)
}

// awaitCollection waits until the collection in flight, if any, ends and
// the releases queued so far have run (unless they stall), or until ctx
// ends. Without the second wait, memory a collection found dropped waits
// in the cleanup queue instead, and a goroutine that allocates faster than
// the releases run piles it up. It starts no collection: pacing started
// one when its count passed the goal.
func (b *Budget) awaitCollection(ctx context.Context) {
	b.gcMu.Lock()
	done := b.gcDone
	b.gcMu.Unlock()
	if done != nil {
		if h := b.hooks.gcJoined; h != nil {
			h()
		}
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
	_, _ = b.waitForProgress(ctx)
}

// SetGCPercent sets how the budget paces garbage collections on the
// off-heap memory that waits for one, and returns the previous setting.
//
// The Go collector paces itself on the Go heap (the JVM's, on its own
// heap), not on memory outside it. A program whose heap is large and quiet
// can drop gigabytes of buffers that only a collection releases before the
// collector sees a reason to run: the JVM's oldest direct-memory flaw,
// which its users work around with a small MaxDirectMemorySize or calls to
// System.gc(). A budget therefore starts one collection in the background
// when the managed bytes (buffers released by the collector if dropped;
// not explicit-only buffers, not arenas) allocated since the last completed
// cycle, less those freed by hand, pass a goal: the managed bytes live at
// that cycle times percent/100, and never less than 64 MiB. The collection
// is shared with the budget's other triggers (the high-water mark and the
// retry loop's forced collection): one at a time.
//
// A higher percentage means fewer collections and more memory waiting for
// one (up to about twice the goal: a goroutine that would drop more waits
// for the collection in flight and the releases it queued, as the
// runtime's allocation assists do); a lower one, the opposite. A negative percent turns pacing off,
// which is the JVM's behaviour: dropped buffers then wait for a collection
// that the Go heap, the high-water mark or the limit starts. [FollowGOGC]
// follows the runtime's GOGC (GOGC=off turns pacing off). [Default] reads
// its setting from DIRECTMEM_GOGC ("off" or a percentage) when set, and
// follows GOGC otherwise.
func (b *Budget) SetGCPercent(percent int) (previous int) { return b.pacer.Set(percent) }

// GCPercent returns the setting made with SetGCPercent: a percentage, -1
// when pacing is off, or [FollowGOGC].
func (b *Budget) GCPercent() int { return b.pacer.Setting() }

// parseGCPercent parses the value of DIRECTMEM_GOGC: "off" or a
// non-negative percentage, as the runtime's GOGC.
func parseGCPercent(v string) (int, error) {
	if v == "off" {
		return pacing.Off, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s=%q: want \"off\" or a percentage >= 0", ErrInvalidLimit, envGOGC, v)
	}
	return n, nil
}
