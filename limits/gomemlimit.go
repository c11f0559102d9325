package limits

import (
	"errors"
	"math"
	"strconv"
)

var errGoMemLimitSyntax = errors.New(`want a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or "off"`)

// parseGoMemLimit parses GOMEMLIMIT exactly as the runtime does at start-up
// (runtime.readGOMEMLIMIT and parseByteCount, Go 1.26): "off" means no limit;
// otherwise the value is an integer as strconv.ParseInt reads it, optionally
// followed by B, KiB, MiB, GiB or TiB, in [0, MaxInt64]. ParseInt takes a
// sign, so "+1GiB" and "-0" are limits; agreeing with the runtime matters
// more here than tidiness, and older runtimes accept a subset of this.
func parseGoMemLimit(s string) (limit int64, off bool, err error) {
	if s == "off" {
		return 0, true, nil
	}
	if s == "" {
		return 0, false, errGoMemLimitSyntax
	}
	number, unit := s, uint64(1)
	if last := s[len(s)-1]; last < '0' || last > '9' {
		if last != 'B' || len(s) < 2 {
			return 0, false, errGoMemLimitSyntax
		}
		number = s[:len(s)-1]
		if c := s[len(s)-2]; c < '0' || c > '9' {
			if c != 'i' || len(s) < 4 {
				return 0, false, errGoMemLimitSyntax
			}
			switch s[len(s)-3] {
			case 'K':
				unit = 1 << 10
			case 'M':
				unit = 1 << 20
			case 'G':
				unit = 1 << 30
			case 'T':
				unit = 1 << 40
			default:
				return 0, false, errGoMemLimitSyntax
			}
			number = s[:len(s)-3]
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0: // ParseInt's n is MaxInt64 then
		return 0, false, errSizeRange
	case err != nil || n < 0:
		return 0, false, errGoMemLimitSyntax
	case uint64(n) > math.MaxInt64/unit:
		return 0, false, errSizeRange
	}
	return int64(uint64(n) * unit), false, nil
}
