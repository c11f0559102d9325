package directmem

import "fmt"

// The fast paths test every failure condition in one branch and call one of
// these to say which it was, in the order the errors take precedence: a
// freed buffer first (nothing else is meaningful then), then a write to a
// read-only buffer (the JVM checks it before bounds), then the bounds.
// Keeping them out of line keeps the fast paths small enough to inline.

func (b *Buffer) indexError(i, n int) error {
	return &accessError{index: i, length: n, limit: b.lim, freed: b.owner.freed()}
}

func (b *Buffer) writeIndexError(i, n int) error {
	return &accessError{index: i, length: n, limit: b.lim, freed: b.owner.freed(), readOnly: b.readOnly}
}

// accessError is the failure of an absolute access: ErrFreed, ErrReadOnly
// or ErrIndexOutOfRange, in that order of precedence, with the numbers. It
// is decided when built but formatted only when printed, so building it is
// cheap enough for the inlined fast paths.
type accessError struct {
	index, length, limit int
	freed, readOnly      bool
}

func (e *accessError) Unwrap() error {
	switch {
	case e.freed:
		return ErrFreed
	case e.readOnly:
		return ErrReadOnly
	}
	return ErrIndexOutOfRange
}

func (e *accessError) Error() string {
	if e.freed || e.readOnly {
		return e.Unwrap().Error()
	}
	return fmt.Sprintf("%v: index %d with length %d out of bounds for limit %d", ErrIndexOutOfRange, e.index, e.length, e.limit)
}

func (b *Buffer) underflowError() error {
	if b.owner.freed() {
		return ErrFreed
	}
	return ErrBufferUnderflow
}

func (b *Buffer) overflowError() error {
	if b.owner.freed() {
		return ErrFreed
	}
	if b.readOnly {
		return ErrReadOnly
	}
	return ErrBufferOverflow
}

// checkLive returns ErrFreed once the memory is released.
func (b *Buffer) checkLive() error {
	if b.owner.freed() {
		return ErrFreed
	}
	return nil
}

// checkWritable returns ErrFreed or ErrReadOnly when the bytes cannot be written.
func (b *Buffer) checkWritable() error {
	if b.owner.freed() {
		return ErrFreed
	}
	if b.readOnly {
		return ErrReadOnly
	}
	return nil
}
