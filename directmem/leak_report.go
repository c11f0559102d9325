package directmem

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LeakKind says what went wrong with a tracked allocation.
type LeakKind int

const (
	// LeakCollected: the garbage collector found a tracked buffer (or
	// arena) unreachable before Free was called. Its cleaner has released
	// the memory, as the JVM would; the report says that the program relied
	// on the collector where it meant to free.
	LeakCollected LeakKind = iota + 1
	// LeakLost: an explicit-only buffer (Options.NoCleaner) or arena became
	// unreachable without Free. Nothing will ever release its memory or its
	// reservation: it stays in Live with Unreachable set.
	LeakLost
	// LeakDoubleFree: Free was called on an explicit-only buffer that was
	// already freed. The second Free released nothing.
	LeakDoubleFree
)

func (k LeakKind) String() string {
	switch k {
	case LeakCollected:
		return "collected without Free"
	case LeakLost:
		return "lost: unreachable without Free, never released"
	case LeakDoubleFree:
		return "double Free"
	}
	return fmt.Sprintf("LeakKind(%d)", int(k))
}

// Leak is a report of leak detection: what happened, to which allocation,
// and where that allocation was made.
type Leak struct {
	Kind LeakKind
	// Allocation is the allocation concerned; its Stack is where it was
	// allocated (nil if that was not recorded).
	Allocation
	// FreedAt, for LeakDoubleFree, is where the first Free was called, when
	// the allocation stack was recorded too (nil otherwise).
	FreedAt Stack
	// FreedAgainAt, for LeakDoubleFree, is where the second Free was called.
	FreedAgainAt Stack
	// Seq numbers the reports of the process from 1, in order (see LeaksSince).
	Seq uint64
	// Suppressed is the number of reports the rate limit kept from the
	// handler since the previous report it delivered. LeaksSince still has
	// them. Always 0 in what LeaksSince returns.
	Suppressed int64
}

// Message is a one-line summary of the leak, without its stacks.
func (l Leak) Message() string {
	a := l.Allocation
	a.Unreachable = false // the message says it in its own words
	switch l.Kind {
	case LeakCollected:
		return "directmem: LEAK: " + a.describe() + " was garbage-collected without Free (its cleaner released the memory)"
	case LeakLost:
		return "directmem: LEAK: " + a.describe() + " became unreachable without Free; its memory and reservation are never released"
	case LeakDoubleFree:
		return "directmem: Free called twice on " + a.describe()
	}
	return "directmem: " + l.Kind.String() + ": " + a.describe()
}

// String is the full report on several lines: Message, the allocation
// stack, the Free stacks of a double Free, and the count of suppressed
// reports, if any.
func (l Leak) String() string {
	var sb strings.Builder
	sb.WriteString(l.Message())
	l.Stack.writeTo(&sb, "allocated at")
	if l.Kind == LeakDoubleFree {
		if l.FreedAt != nil {
			l.FreedAt.writeTo(&sb, "first freed at")
		}
		l.FreedAgainAt.writeTo(&sb, "freed again at")
	}
	if l.Suppressed > 0 {
		fmt.Fprintf(&sb, "(%d earlier leak reports were suppressed by the rate limit)\n", l.Suppressed)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// leakEvent is a report before symbolisation: what the log keeps.
type leakEvent struct {
	seq      uint64
	kind     LeakKind
	rec      *allocRecord
	freePCs  []uintptr
	againPCs []uintptr
}

func (ev *leakEvent) leak() Leak {
	a := ev.rec.allocation()
	a.Unreachable = ev.kind == LeakLost
	return Leak{Kind: ev.kind, Allocation: a, FreedAt: stackOf(ev.freePCs), FreedAgainAt: stackOf(ev.againPCs), Seq: ev.seq}
}

// reportLeak logs ev and hands it to the handler unless the rate limit
// says otherwise. It runs on the goroutine that found the leak: a runtime
// cleanup goroutine, or the one calling Free.
func reportLeak(ev leakEvent) {
	ev.seq = leakLog.add(ev)
	ok, suppressed := leakLimiter.Load().allow()
	if !ok {
		return
	}
	l := ev.leak()
	l.Suppressed = suppressed
	deliverLeak(l)
}

// deliverLeak calls the handler, containing a panic: the caller may be a
// release on its way to give memory back.
func deliverLeak(l Leak) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("directmem: leak handler panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	h := defaultLeakHandler
	if p := leakHandler.Load(); p != nil {
		h = *p
	}
	h(l)
}

var leakHandler atomic.Pointer[func(Leak)]

// SetLeakHandler sets the function that receives leak reports and returns
// the previous one; nil restores the default, which logs one log/slog
// warning per report (Message, with the pool, capacity, allocation stack
// and suppressed count as attributes).
//
// The handler runs on the goroutine that found the leak: for a buffer
// collected without Free, the runtime's cleanup goroutine, which runs every
// cleanup of the process, so the handler must not block. Reports are rate
// limited before they reach it: a burst of 10, then one a second, each
// delivered report counting those suppressed before it (Leak.Suppressed).
// LeaksSince returns every report, suppressed or not.
func SetLeakHandler(h func(Leak)) func(Leak) {
	var old *func(Leak)
	if h == nil {
		old = leakHandler.Swap(nil)
	} else {
		old = leakHandler.Swap(&h)
	}
	if old == nil {
		return defaultLeakHandler
	}
	return *old
}

func defaultLeakHandler(l Leak) {
	attrs := []any{"pool", l.Pool, "capacity", l.Capacity}
	if l.Stack != nil {
		attrs = append(attrs, "allocated", l.Stack.oneLine())
	} else {
		attrs = append(attrs, "allocated", "not recorded (sampled out; use LeakParanoid)")
	}
	if l.Kind == LeakDoubleFree {
		if l.FreedAt != nil {
			attrs = append(attrs, "first_free", l.FreedAt.oneLine())
		}
		attrs = append(attrs, "second_free", l.FreedAgainAt.oneLine())
	}
	if l.Suppressed > 0 {
		attrs = append(attrs, "suppressed", l.Suppressed)
	}
	slog.Warn(l.Message(), attrs...)
}

// The rate limit of reports to the handler: a token bucket.
const (
	leakReportBurst  = 10
	leakReportPerSec = 1
)

// leakLimiter is the rate limit in force; a pointer so that tests can swap it.
var leakLimiter atomic.Pointer[rateLimiter]

func init() { leakLimiter.Store(newRateLimiter(leakReportPerSec, leakReportBurst, time.Now)) }

// rateLimiter is a token bucket that counts what it refuses.
type rateLimiter struct {
	mu         sync.Mutex
	now        func() time.Time
	perSec     float64
	burst      float64
	tokens     float64
	last       time.Time
	suppressed int64
}

func newRateLimiter(perSec, burst float64, now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, perSec: perSec, burst: burst, tokens: burst, last: now()}
}

// allow takes a token if there is one. When it does, it also returns the
// number of calls refused since the last one allowed, and resets it.
func (l *rateLimiter) allow() (ok bool, suppressed int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed.Seconds()*l.perSec)
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// leakLogSize is the number of reports LeaksSince can return.
const leakLogSize = 1024

// leakLog keeps the latest reports, numbered from 1, for LeaksSince.
var leakLog eventLog

type eventLog struct {
	mu   sync.Mutex
	seq  uint64
	ring [leakLogSize]leakEvent
}

// add numbers ev, keeps it (dropping the oldest report beyond leakLogSize)
// and returns its number.
func (g *eventLog) add(ev leakEvent) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	ev.seq = g.seq
	g.ring[ev.seq%leakLogSize] = ev
	return ev.seq
}

// since returns the kept events numbered after seq, and the latest number.
func (g *eventLog) since(seq uint64) ([]leakEvent, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	latest := g.seq
	if seq >= latest {
		return nil, latest
	}
	first := max(seq+1, latest+1-min(latest, leakLogSize))
	var events []leakEvent
	for s := first; s <= latest; s++ {
		events = append(events, g.ring[s%leakLogSize])
	}
	return events, latest
}

// LeaksSince returns the leak reports numbered after seq, oldest first, and
// the number of the latest report made so far (0 if none). Pass 0 for every
// report the process kept, and the returned number next time to get only
// newer ones; pass math.MaxUint64 for none, to learn the latest number.
// Only the latest 1024 reports are kept; the rate limit of the handler does
// not apply here.
//
// It is how package directmemtest fails a test for buffers that were
// collected without Free, and a way for a program to collect reports
// without replacing the handler.
func LeaksSince(seq uint64) (leaks []Leak, latest uint64) {
	events, latest := leakLog.since(seq)
	for i := range events {
		leaks = append(leaks, events[i].leak())
	}
	return leaks, latest
}
