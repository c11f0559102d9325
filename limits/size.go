package limits

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

var (
	errSizeSyntax = errors.New("want decimal digits with an optional k, m, g or t suffix")
	errSizeRange  = errors.New("more than 9223372036854775807 bytes")
)

// ParseSize parses a size in the JVM's syntax for -XX:MaxDirectMemorySize:
// decimal digits with an optional suffix k, m, g or t (either case) that
// multiplies by 1024, 1024², 1024³ or 1024⁴. "10", "1k", "64m", "2G" and "0"
// are sizes; a sign, a fraction, spaces, more than one suffix or a result
// beyond math.MaxInt64 are not (HotSpot's hexadecimal form is not accepted
// either). The error wraps [ErrInvalidSize] and quotes s.
func ParseSize(s string) (int64, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %v", ErrInvalidSize, s, err)
	}
	return n, nil
}

// parseSize is ParseSize with a bare reason for an error, so that callers
// can name the source of s (an environment variable) in their own message.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, errSizeSyntax
	}
	digits, unit := s, int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		unit = 1 << 10
	case 'm', 'M':
		unit = 1 << 20
	case 'g', 'G':
		unit = 1 << 30
	case 't', 'T':
		unit = 1 << 40
	}
	if unit != 1 {
		digits = s[:len(s)-1]
	}
	if digits == "" {
		return 0, errSizeSyntax
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, errSizeSyntax
		}
	}
	// Only digits are left, so ParseInt can fail only on range.
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, errSizeRange
	}
	return n * unit, nil
}
