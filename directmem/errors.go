//go:generate go run gen_typed.go

package directmem

import "errors"

// Errors returned by Buffer methods and the allocator. They are the JVM's
// unchecked exceptions turned into values; match them with errors.Is, since
// most are wrapped with the numbers that were wrong.
var (
	// ErrBufferUnderflow: a relative get needs more bytes than remain
	// (java.nio.BufferUnderflowException).
	ErrBufferUnderflow = errors.New("directmem: buffer underflow")
	// ErrBufferOverflow: a relative put needs more room than remains
	// (java.nio.BufferOverflowException).
	ErrBufferOverflow = errors.New("directmem: buffer overflow")
	// ErrReadOnly: a write to a read-only view (java.nio.ReadOnlyBufferException).
	ErrReadOnly = errors.New("directmem: read-only buffer")
	// ErrIndexOutOfRange: an index, position, limit or length outside the
	// buffer (IndexOutOfBoundsException, IllegalArgumentException).
	ErrIndexOutOfRange = errors.New("directmem: index out of range")
	// ErrInvalidMark: Reset without a mark (java.nio.InvalidMarkException).
	ErrInvalidMark = errors.New("directmem: invalid mark")
	// ErrFreed: the buffer's memory has been released, by Free or with its
	// arena. The JVM has no equivalent: there, such an access crashes.
	ErrFreed = errors.New("directmem: buffer freed")
	// ErrNotOwner: Free on a buffer that does not own its memory: a slice,
	// duplicate or read-only view, or a buffer of an Arena (the JVM's
	// invokeCleaner on "duplicate or slice").
	ErrNotOwner = errors.New("directmem: buffer does not own its memory")
	// ErrInvalidCapacity: a negative capacity, or one too large to allocate.
	ErrInvalidCapacity = errors.New("directmem: invalid capacity")
	// ErrInvalidOptions: an Options value the allocator cannot honour.
	ErrInvalidOptions = errors.New("directmem: invalid options")
)
