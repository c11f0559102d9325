package limits

import (
	"errors"
	"fmt"
)

var (
	// ErrOutOfDirectMemory matches (with errors.Is) the error of a
	// reservation that still did not fit after the whole retry loop: the
	// JVM's OutOfMemoryError("Cannot reserve ..."). The error returned is an
	// [*OutOfMemoryError].
	ErrOutOfDirectMemory = errors.New("limits: out of direct memory")

	// ErrInvalidLimit is wrapped by the errors of a budget whose settings
	// could not be determined (an invalid DIRECTMEM_MAX, GOMEMLIMIT or
	// DIRECTMEM_GOGC for [Default]) and by [Budget.SetHighWater] for an
	// out-of-range fraction.
	ErrInvalidLimit = errors.New("limits: invalid direct memory limit")

	// ErrInvalidSize is wrapped by the errors of [ParseSize] for a string
	// that is not a size, and by [Budget.Reserve] for sizes that are not
	// one reservation: a negative capacity, or a size below the capacity
	// or above it by more than 1 GiB (more than any rounding or alignment).
	ErrInvalidSize = errors.New("limits: invalid size")
)

// OutOfMemoryError is the error of a reservation that did not fit the budget
// even after waiting for cleanups, a forced garbage collection and the
// back-off. Its message is exactly the JVM's, without the package prefix Go
// errors usually carry, so that log searches written for Java services find
// it; errors.Is(err, ErrOutOfDirectMemory) reports true for it.
type OutOfMemoryError struct {
	Requested int64 // the size asked for, including rounding
	Allocated int64 // the memory reserved when the reservation gave up (the JVM's RESERVED_MEMORY)
	Limit     int64 // the budget's limit on total capacity
}

// Error returns "cannot reserve N bytes of direct buffer memory (allocated:
// A, limit: L)": the JVM's text, lower-cased as Go error strings are.
func (e *OutOfMemoryError) Error() string {
	return fmt.Sprintf("cannot reserve %d bytes of direct buffer memory (allocated: %d, limit: %d)",
		e.Requested, e.Allocated, e.Limit)
}

// Is reports whether target is [ErrOutOfDirectMemory].
func (e *OutOfMemoryError) Is(target error) bool { return target == ErrOutOfDirectMemory }
